// Push rules API (client-server-api/modules/push.md, "Push Rules: API";
// data/api/client-server/pushrules.yaml). Only the `global` scope exists.
import {
  parsePushActions,
  parsePushConditions,
  PUSH_RULE_KINDS,
  type Parsed,
  type PushAction,
  type PushRuleKind,
} from '../../core/push-rules/index.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { PushRulesService } from '../../services/push/index.js';
import type { UserRuleInput } from '../../storage/push/index.js';
import { invalidParam, MatrixError, missingParam, unrecognized } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireBoolean, requireObject, requireString } from '../validate.js';
import { requesterOf } from './uia.js';

const PREFIX = '/_matrix/client/v3/pushrules';
const RULE = `${PREFIX}/{scope}/{kind}/{ruleId}`;
const ATTRIBUTES = ['enabled', 'actions'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

// Every path under /pushrules/ is matched with parameters, so a bad scope,
// kind or attribute, or a missing part, gets a 400 naming the problem
// instead of the router's 404/405, as Synapse answers
// (synapse/rest/client/push_rule.py). A value outside the spec's enum is
// M_INVALID_PARAM; a path missing a part (including the trailing slash that
// asks for a whole scope or kind) is M_UNRECOGNIZED, Synapse's code for it.
// `/pushrules` without its slash is not an endpoint: 404, as on Synapse.
export function pushRulesRoutes(rules: PushRulesService): Route[] {
  const userOf = (req: MatrixRequest) => requesterOf(req).userId;
  const incomplete = async (): Promise<never> => {
    throw unrecognized('Name the rule to change: /pushrules/global/{kind}/{ruleId}', 400);
  };
  return [
    /**
     * # GET /_matrix/client/v3/pushrules/ (scope empty): every ruleset.
     * `/pushrules/global` without the slash is a scope, not a listing.
     */
    {
      method: 'GET',
      path: `${PREFIX}/{scope}`,
      auth: 'required',
      handler: async (req) => {
        if (req.params.scope !== '') throw missingTrailingSlash(`/pushrules/${req.params.scope}`);
        return { body: { global: await rulesetJson(rules, userOf(req)) } };
      },
    },
    /** # GET /_matrix/client/v3/pushrules/global/ (kind empty) */
    {
      method: 'GET',
      path: `${PREFIX}/{scope}/{kind}`,
      auth: 'required',
      handler: async (req) => {
        scopeParam(req);
        if (req.params.kind !== '') throw missingTrailingSlash(`/pushrules/global/${req.params.kind}`);
        return { body: await rulesetJson(rules, userOf(req)) };
      },
    },
    /** # GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}; with ruleId empty, the rules of that kind. */
    {
      method: 'GET',
      path: RULE,
      auth: 'required',
      handler: async (req) => {
        const kind = kindParam(req);
        if (req.params.ruleId === '') return { body: (await rules.ruleset(userOf(req)))[kind] as unknown as JsonValue[] };
        return { body: (await rules.rule(userOf(req), kind, req.params.ruleId!)) as unknown as JsonObject };
      },
    },
    /** # PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId} */
    {
      method: 'PUT',
      path: RULE,
      auth: 'required',
      rateLimit: 'message',
      handler: async (req) => {
        const kind = kindParam(req);
        const rule = userRuleFromBody(kind, newRuleId(ruleIdParam(req)), requireObject(req.body));
        const before = req.query.get('before') ?? undefined;
        const after = req.query.get('after') ?? undefined;
        await rules.putRule(userOf(req), kind, rule, { before, after });
        return { body: {} };
      },
    },
    /** # DELETE /_matrix/client/v3/pushrules/global/{kind}/{ruleId} */
    {
      method: 'DELETE',
      path: RULE,
      auth: 'required',
      handler: async (req) => {
        await rules.deleteRule(userOf(req), kindParam(req), ruleIdParam(req));
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/{enabled|actions} */
    {
      method: 'GET',
      path: `${RULE}/{attribute}`,
      auth: 'required',
      handler: async (req) => {
        const attribute = attributeParam(req);
        const rule = await rules.rule(userOf(req), kindParam(req), ruleIdParam(req));
        const body: JsonObject = attribute === 'enabled' ? { enabled: rule.enabled } : { actions: rule.actions as JsonValue[] };
        return { body };
      },
    },
    /** # PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/{enabled|actions} */
    {
      method: 'PUT',
      path: `${RULE}/{attribute}`,
      auth: 'required',
      handler: async (req) => {
        const attribute = attributeParam(req);
        const kind = kindParam(req);
        const ruleId = ruleIdParam(req);
        const body = requireObject(req.body);
        if (attribute === 'enabled') await rules.setEnabled(userOf(req), kind, ruleId, requireBoolean(body, 'enabled'));
        else await rules.setActions(userOf(req), kind, ruleId, actionsFromBody(body));
        return { body: {} };
      },
    },
    // Writes that stop before naming a rule.
    ...(['PUT', 'DELETE'] as const).flatMap((method) =>
      [`${PREFIX}/{scope}`, `${PREFIX}/{scope}/{kind}`].map((path): Route => ({ method, path, auth: 'required', handler: incomplete })),
    ),
  ];
}

async function rulesetJson(rules: PushRulesService, userId: string): Promise<JsonObject> {
  return (await rules.ruleset(userId)) as unknown as JsonObject;
}

function missingTrailingSlash(path: string): MatrixError {
  return unrecognized(`${path} is not an endpoint; add a trailing slash (${path}/) to list its rules`, 400);
}

/** Only the `global` scope exists (push.md). */
function scopeParam(req: MatrixRequest): void {
  if (req.params.scope !== 'global') throw invalidParam(`Unknown push rule scope '${req.params.scope}'; the only scope is 'global'`);
}

function kindParam(req: MatrixRequest): PushRuleKind {
  scopeParam(req);
  const kind = req.params.kind!;
  if (!(PUSH_RULE_KINDS as readonly string[]).includes(kind)) {
    throw invalidParam(`Unknown push rule kind '${kind}'; it must be one of ${PUSH_RULE_KINDS.join(', ')}`);
  }
  return kind as PushRuleKind;
}

function ruleIdParam(req: MatrixRequest): string {
  if (req.params.ruleId === '') throw invalidParam('The push rule ID must not be empty');
  return req.params.ruleId!;
}

function attributeParam(req: MatrixRequest): Attribute {
  const attribute = req.params.attribute!;
  if (!(ATTRIBUTES as readonly string[]).includes(attribute)) {
    throw invalidParam(`Unknown push rule attribute '${attribute}'; it must be one of ${ATTRIBUTES.join(', ')}`);
  }
  return attribute as Attribute;
}

/**
 * pushrules.yaml: rule IDs starting with "." are reserved for server-default
 * rules, and slashes and backslashes are not allowed. A room or sender rule's
 * ID names the room or user it matches (push.md), but like Synapse we do not
 * hold clients to it: such a rule is only ever matched by that exact ID.
 */
function newRuleId(ruleId: string): string {
  if (ruleId.startsWith('.')) throw invalidParam(`Rule IDs starting with '.' are reserved for server-default rules: ${ruleId}`);
  if (/[/\\]/.test(ruleId)) throw invalidParam(`Rule IDs must not contain '/' or '\\': ${ruleId}`);
  return ruleId;
}

/** The parts of the body each kind uses: a pattern for content rules, conditions for override and underride. */
function userRuleFromBody(kind: PushRuleKind, ruleId: string, body: JsonObject): UserRuleInput {
  const rule: UserRuleInput = { ruleId, actions: actionsFromBody(body) };
  if (kind === 'content') rule.pattern = requireString(body, 'pattern');
  if (kind === 'override' || kind === 'underride') {
    rule.conditions = body['conditions'] === undefined ? [] : parsed(parsePushConditions(body['conditions']));
  }
  return rule;
}

function actionsFromBody(body: JsonObject): PushAction[] {
  if (body['actions'] === undefined) throw missingParam("Missing required field 'actions'");
  return parsed(parsePushActions(body['actions']));
}

function parsed<T>(result: Parsed<T>): T {
  if (!result.ok) throw invalidParam(result.error);
  return result.value;
}
