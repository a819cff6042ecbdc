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
import { invalidParam, missingParam } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireBoolean, requireObject, requireString } from '../validate.js';
import { requesterOf } from './uia.js';

const PREFIX = '/_matrix/client/v3/pushrules';
const RULE = `${PREFIX}/global/{kind}/{ruleId}`;

export function pushRulesRoutes(rules: PushRulesService): Route[] {
  const allRules = async (req: MatrixRequest) => ({ body: { global: await rulesetJson(rules, requesterOf(req).userId) } });
  const globalRules = async (req: MatrixRequest) => ({ body: await rulesetJson(rules, requesterOf(req).userId) });
  return [
    /** # GET /_matrix/client/v3/pushrules/ */
    { method: 'GET', path: `${PREFIX}/`, auth: 'required', handler: allRules },
    { method: 'GET', path: PREFIX, auth: 'required', handler: allRules },
    /** # GET /_matrix/client/v3/pushrules/global/ */
    { method: 'GET', path: `${PREFIX}/global/`, auth: 'required', handler: globalRules },
    { method: 'GET', path: `${PREFIX}/global`, auth: 'required', handler: globalRules },
    /** # GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId} */
    {
      method: 'GET',
      path: RULE,
      auth: 'required',
      handler: async (req) => {
        const rule = await rules.rule(requesterOf(req).userId, kindParam(req), req.params.ruleId!);
        return { body: rule as unknown as JsonObject };
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
        const rule = userRuleFromBody(kind, newRuleId(kind, req.params.ruleId!), requireObject(req.body));
        const before = req.query.get('before') ?? undefined;
        const after = req.query.get('after') ?? undefined;
        await rules.putRule(requesterOf(req).userId, kind, rule, { before, after });
        return { body: {} };
      },
    },
    /** # DELETE /_matrix/client/v3/pushrules/global/{kind}/{ruleId} */
    {
      method: 'DELETE',
      path: RULE,
      auth: 'required',
      handler: async (req) => {
        await rules.deleteRule(requesterOf(req).userId, kindParam(req), req.params.ruleId!);
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled */
    {
      method: 'GET',
      path: `${RULE}/enabled`,
      auth: 'required',
      handler: async (req) => {
        const rule = await rules.rule(requesterOf(req).userId, kindParam(req), req.params.ruleId!);
        return { body: { enabled: rule.enabled } };
      },
    },
    /** # PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled */
    {
      method: 'PUT',
      path: `${RULE}/enabled`,
      auth: 'required',
      handler: async (req) => {
        const enabled = requireBoolean(requireObject(req.body), 'enabled');
        await rules.setEnabled(requesterOf(req).userId, kindParam(req), req.params.ruleId!, enabled);
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions */
    {
      method: 'GET',
      path: `${RULE}/actions`,
      auth: 'required',
      handler: async (req) => {
        const rule = await rules.rule(requesterOf(req).userId, kindParam(req), req.params.ruleId!);
        return { body: { actions: rule.actions as JsonValue[] } };
      },
    },
    /** # PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions */
    {
      method: 'PUT',
      path: `${RULE}/actions`,
      auth: 'required',
      handler: async (req) => {
        const actions = actionsFromBody(requireObject(req.body));
        await rules.setActions(requesterOf(req).userId, kindParam(req), req.params.ruleId!, actions);
        return { body: {} };
      },
    },
  ];
}

async function rulesetJson(rules: PushRulesService, userId: string): Promise<JsonObject> {
  return (await rules.ruleset(userId)) as unknown as JsonObject;
}

function kindParam(req: MatrixRequest): PushRuleKind {
  const kind = req.params.kind!;
  if (!(PUSH_RULE_KINDS as readonly string[]).includes(kind)) {
    throw invalidParam(`Unknown push rule kind '${kind}'; it must be one of ${PUSH_RULE_KINDS.join(', ')}`);
  }
  return kind as PushRuleKind;
}

/**
 * pushrules.yaml: rule IDs starting with "." are reserved for server-default
 * rules, and slashes and backslashes are not allowed. Room and sender rules
 * are named by the room or user they match, so other IDs would never match.
 */
function newRuleId(kind: PushRuleKind, ruleId: string): string {
  if (ruleId === '') throw invalidParam('The push rule ID must not be empty');
  if (ruleId.startsWith('.')) throw invalidParam(`Rule IDs starting with '.' are reserved for server-default rules: ${ruleId}`);
  if (/[/\\]/.test(ruleId)) throw invalidParam(`Rule IDs must not contain '/' or '\\': ${ruleId}`);
  if (kind === 'room' && !ruleId.startsWith('!')) throw invalidParam(`A room rule's ID is the room ID it applies to, not '${ruleId}'`);
  if (kind === 'sender' && !ruleId.startsWith('@')) throw invalidParam(`A sender rule's ID is the user ID it applies to, not '${ruleId}'`);
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
