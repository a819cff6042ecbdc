// A user's push rules: the server-default rules merged with the user's own
// rules and changes (client-server-api/modules/push.md, "Push Rules: API").
// Every change is also written as global account data `m.push_rules`
// (content `{global: ruleset}`), which is how clients learn of it via /sync.
import {
  defaultPushRules,
  mergeRulesets,
  PUSH_RULE_KINDS,
  type DefaultRuleChange,
  type PushAction,
  type PushCondition,
  type PushRule,
  type PushRuleKind,
  type PushRuleset,
} from '../../core/push-rules/index.js';
import type { JsonObject } from '../../core/types.js';
import { invalidParam, notFound } from '../../core/errors.js';
import type { AccountDataStore } from '../../storage/accounts/account-data.js';
import { RulePlacementError, type PushRuleStore, type RulePlacement, type UserRuleInput } from '../../storage/push/index.js';
import type { Notifier } from '../notifier.js';

export const PUSH_RULES_ACCOUNT_DATA_TYPE = 'm.push_rules';

export interface PushRulesDeps {
  store: PushRuleStore;
  accountData: AccountDataStore;
  notifier: Notifier;
  /**
   * Include the body-mention rules spec v1.17 removed. Axon turns them on:
   * Element and other clients still send mentions without `m.mentions` in
   * many cases (e.g. older clients, bridges), and users expect their display
   * name or username in a message to notify them, as it does on Synapse. The
   * evaluator skips them for events that carry `m.mentions`, so intentional
   * mentions are never second-guessed.
   */
  legacyMentionRules: boolean;
}

/** Rulesets are read for every recipient of every event; keep the merged form of this many users. */
const CACHE_LIMIT = 10_000;

export class PushRulesService {
  private readonly cache = new Map<string, PushRuleset>();

  constructor(private readonly deps: PushRulesDeps) {}

  /** The user's effective ruleset, highest priority first within each kind. */
  async ruleset(userId: string): Promise<PushRuleset> {
    const cached = this.cache.get(userId);
    if (cached) return cached;
    const merged = mergeRulesets(this.defaults(userId), await this.deps.store.userRules(userId));
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(userId, merged);
    return merged;
  }

  /** One rule of the user's effective ruleset; throws M_NOT_FOUND when there is none. */
  async rule(userId: string, kind: PushRuleKind, ruleId: string): Promise<PushRule> {
    const rule = (await this.ruleset(userId))[kind].find((r) => r.rule_id === ruleId);
    if (!rule) throw noSuchRule(kind, ruleId);
    return rule;
  }

  /** Creates or replaces a user rule (the caller has checked the rule ID is not reserved). */
  async putRule(userId: string, kind: PushRuleKind, rule: UserRuleInput, placement: RulePlacement): Promise<void> {
    try {
      await this.deps.store.putRule(userId, kind, rule, placement);
    } catch (err) {
      if (err instanceof RulePlacementError) throw invalidParam(err.message);
      throw err;
    }
    await this.changed(userId);
  }

  async deleteRule(userId: string, kind: PushRuleKind, ruleId: string): Promise<void> {
    if (this.isDefaultRule(userId, kind, ruleId)) {
      throw invalidParam(`${ruleId} is a server-default rule and cannot be deleted; disable it with PUT …/${kind}/${ruleId}/enabled`);
    }
    if (!(await this.deps.store.deleteRule(userId, kind, ruleId))) throw noSuchRule(kind, ruleId);
    await this.changed(userId);
  }

  /**
   * After a room upgrade, the user's enabled rules about the old room are
   * copied to its replacement (room_upgrades.md leaves what carries over to
   * the server; Synapse's copy_push_rules_from_room_to_room_for_user): a room
   * rule becomes the new room's, and a rule with a room_id condition on the
   * old room is repeated as a rule named by the new room, matching it.
   */
  async copyToUpgradedRoom(userId: string, oldRoomId: string, newRoomId: string): Promise<void> {
    const { rules } = await this.deps.store.userRules(userId);
    const aboutOldRoom = (c: PushCondition) => c.key === 'room_id' && c.pattern === oldRoomId;
    let copied = false;
    for (const kind of PUSH_RULE_KINDS) {
      for (const rule of rules?.[kind] ?? []) {
        if (!rule.enabled) continue;
        let copy: UserRuleInput;
        if (kind === 'room') {
          if (rule.rule_id !== oldRoomId) continue;
          copy = { ruleId: newRoomId, actions: rule.actions };
        } else {
          if (!rule.conditions?.some(aboutOldRoom)) continue;
          const conditions = rule.conditions.map((c) => (aboutOldRoom(c) ? { ...c, pattern: newRoomId } : c));
          copy = { ruleId: newRoomId, actions: rule.actions, conditions };
        }
        await this.deps.store.putRule(userId, kind, copy, {});
        copied = true;
      }
    }
    if (copied) await this.changed(userId);
  }

  async setEnabled(userId: string, kind: PushRuleKind, ruleId: string, enabled: boolean): Promise<void> {
    await this.change(userId, kind, ruleId, { enabled });
  }

  async setActions(userId: string, kind: PushRuleKind, ruleId: string, actions: PushAction[]): Promise<void> {
    await this.change(userId, kind, ruleId, { actions });
  }

  private async change(userId: string, kind: PushRuleKind, ruleId: string, change: DefaultRuleChange): Promise<void> {
    if (this.isDefaultRule(userId, kind, ruleId)) {
      await this.deps.store.changeDefaultRule(userId, kind, ruleId, change);
    } else if (!(await this.deps.store.updateRule(userId, kind, ruleId, change))) {
      throw noSuchRule(kind, ruleId);
    }
    await this.changed(userId);
  }

  private defaults(userId: string): PushRuleset {
    return defaultPushRules(userId, { legacyMentionRules: this.deps.legacyMentionRules });
  }

  private isDefaultRule(userId: string, kind: PushRuleKind, ruleId: string): boolean {
    return ruleId.startsWith('.') && this.defaults(userId)[kind].some((r) => r.rule_id === ruleId);
  }

  /** Publishes the new ruleset to /sync as `m.push_rules` account data. */
  private async changed(userId: string): Promise<void> {
    this.cache.delete(userId);
    const content = { global: (await this.ruleset(userId)) as unknown as JsonObject };
    const position = await this.deps.accountData.setGlobal(userId, PUSH_RULES_ACCOUNT_DATA_TYPE, content);
    this.deps.notifier.notify('account_data', position, { userIds: [userId] });
  }
}

function noSuchRule(kind: PushRuleKind, ruleId: string) {
  return notFound(`There is no push rule '${ruleId}' of kind '${kind}'`);
}
