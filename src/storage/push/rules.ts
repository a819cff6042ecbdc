// A user's push rules and their changes to server-default rules. Rules of one
// kind are kept as an ordered list (position 0 most important); a user has a
// handful of rules, so reordering rewrites the kind's positions.
import {
  PUSH_RULE_KINDS,
  type DefaultRuleChange,
  type PushAction,
  type PushCondition,
  type PushRule,
  type PushRuleKind,
  type UserPushRules,
} from '../../core/push-rules/index.js';
import type { Database, Queryable } from '../database.js';

/** A user rule as written by PUT /pushrules: everything but `default`. */
export interface UserRuleInput {
  ruleId: string;
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

/** Where PUT /pushrules places a rule relative to another user rule of its kind. */
export interface RulePlacement {
  before?: string;
  after?: string;
}

/** The reason a rule could not be placed. */
export class RulePlacementError extends Error {}

interface RuleRow {
  kind: string;
  rule_id: string;
  position: number;
  enabled: number;
  actions: string;
  conditions: string | null;
  pattern: string | null;
}

interface ChangeRow {
  kind: string;
  rule_id: string;
  enabled: number | null;
  actions: string | null;
}

function isKind(kind: string): kind is PushRuleKind {
  return (PUSH_RULE_KINDS as readonly string[]).includes(kind);
}

function ruleFromRow(row: RuleRow): PushRule {
  return {
    rule_id: row.rule_id,
    default: false,
    enabled: Number(row.enabled) !== 0,
    actions: JSON.parse(row.actions) as PushAction[],
    ...(row.conditions !== null ? { conditions: JSON.parse(row.conditions) as PushCondition[] } : {}),
    ...(row.pattern !== null ? { pattern: row.pattern } : {}),
  };
}

export class PushRuleStore {
  constructor(private readonly db: Database) {}

  /** Everything stored for the user, in the shape `mergeRulesets` takes. */
  async userRules(userId: string): Promise<UserPushRules> {
    const rows = await this.db.query<RuleRow>(
      'SELECT kind, rule_id, position, enabled, actions, conditions, pattern FROM push_rules WHERE user_id = ? ORDER BY kind, position',
      [userId],
    );
    const rules: Partial<Record<PushRuleKind, PushRule[]>> = {};
    for (const row of rows) {
      if (!isKind(row.kind)) continue;
      (rules[row.kind] ??= []).push(ruleFromRow(row));
    }
    const changeRows = await this.db.query<ChangeRow>(
      'SELECT kind, rule_id, enabled, actions FROM push_rule_default_changes WHERE user_id = ?',
      [userId],
    );
    const defaultChanges: UserPushRules['defaultChanges'] = {};
    for (const row of changeRows) {
      if (!isKind(row.kind)) continue;
      const change: DefaultRuleChange = {};
      if (row.enabled !== null) change.enabled = Number(row.enabled) !== 0;
      if (row.actions !== null) change.actions = JSON.parse(row.actions) as PushAction[];
      (defaultChanges[row.kind] ??= {})[row.rule_id] = change;
    }
    return { rules, defaultChanges };
  }

  /**
   * Creates or replaces a user rule. A new rule without a placement becomes
   * the most important of its kind; an existing one keeps its place unless a
   * placement is given. Throws RulePlacementError when `before`/`after` name
   * no user rule of the kind.
   */
  async putRule(userId: string, kind: PushRuleKind, rule: UserRuleInput, placement: RulePlacement): Promise<void> {
    await this.db.transaction(async (tx) => {
      const order = await ruleOrder(tx, userId, kind);
      const existing = order.indexOf(rule.ruleId);
      const enabled = existing >= 0 ? await isEnabled(tx, userId, kind, rule.ruleId) : true;
      const without = order.filter((id) => id !== rule.ruleId);
      const next = placeRule(without, rule.ruleId, placement, existing >= 0 ? existing : 0);
      await tx.execute('DELETE FROM push_rules WHERE user_id = ? AND kind = ? AND rule_id = ?', [userId, kind, rule.ruleId]);
      await tx.execute(
        `INSERT INTO push_rules (user_id, kind, rule_id, position, enabled, actions, conditions, pattern)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          userId,
          kind,
          rule.ruleId,
          next.indexOf(rule.ruleId),
          enabled ? 1 : 0,
          JSON.stringify(rule.actions),
          rule.conditions === undefined ? null : JSON.stringify(rule.conditions),
          rule.pattern ?? null,
        ],
      );
      await writePositions(tx, userId, kind, next);
    });
  }

  /** Removes a user rule; false when there was none. */
  async deleteRule(userId: string, kind: PushRuleKind, ruleId: string): Promise<boolean> {
    const { changes } = await this.db.execute('DELETE FROM push_rules WHERE user_id = ? AND kind = ? AND rule_id = ?', [
      userId,
      kind,
      ruleId,
    ]);
    return changes > 0;
  }

  /** Sets `enabled` or `actions` of a user rule; false when there is no such rule. */
  async updateRule(userId: string, kind: PushRuleKind, ruleId: string, change: DefaultRuleChange): Promise<boolean> {
    const { sets, values } = changeColumns(change);
    if (sets.length === 0) return true;
    const { changes } = await this.db.execute(
      `UPDATE push_rules SET ${sets.join(', ')} WHERE user_id = ? AND kind = ? AND rule_id = ?`,
      [...values, userId, kind, ruleId],
    );
    return changes > 0;
  }

  /** Records a change to a server-default rule, merged with earlier changes. */
  async changeDefaultRule(userId: string, kind: PushRuleKind, ruleId: string, change: DefaultRuleChange): Promise<void> {
    const enabled = change.enabled === undefined ? null : change.enabled ? 1 : 0;
    const actions = change.actions === undefined ? null : JSON.stringify(change.actions);
    await this.db.execute(
      `INSERT INTO push_rule_default_changes (user_id, kind, rule_id, enabled, actions) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET
         enabled = COALESCE(excluded.enabled, push_rule_default_changes.enabled),
         actions = COALESCE(excluded.actions, push_rule_default_changes.actions)`,
      [userId, kind, ruleId, enabled, actions],
    );
  }
}

function changeColumns(change: DefaultRuleChange): { sets: string[]; values: (string | number)[] } {
  const sets: string[] = [];
  const values: (string | number)[] = [];
  if (change.enabled !== undefined) {
    sets.push('enabled = ?');
    values.push(change.enabled ? 1 : 0);
  }
  if (change.actions !== undefined) {
    sets.push('actions = ?');
    values.push(JSON.stringify(change.actions));
  }
  return { sets, values };
}

async function ruleOrder(tx: Queryable, userId: string, kind: PushRuleKind): Promise<string[]> {
  const rows = await tx.query<{ rule_id: string }>(
    'SELECT rule_id FROM push_rules WHERE user_id = ? AND kind = ? ORDER BY position, rule_id',
    [userId, kind],
  );
  return rows.map((r) => r.rule_id);
}

async function isEnabled(tx: Queryable, userId: string, kind: PushRuleKind, ruleId: string): Promise<boolean> {
  const row = await tx.queryOne<{ enabled: number }>(
    'SELECT enabled FROM push_rules WHERE user_id = ? AND kind = ? AND rule_id = ?',
    [userId, kind, ruleId],
  );
  return row === undefined || Number(row.enabled) !== 0;
}

/**
 * The kind's rule order with `ruleId` inserted. Per pushrules.yaml, with
 * both `before` and `after` the rule goes right before `before`.
 */
function placeRule(order: string[], ruleId: string, placement: RulePlacement, fallbackIndex: number): string[] {
  const anchor = placement.before ?? placement.after;
  let index = Math.min(fallbackIndex, order.length);
  if (anchor !== undefined) {
    const at = order.indexOf(anchor);
    if (at < 0) {
      const which = placement.before !== undefined ? 'before' : 'after';
      throw new RulePlacementError(`'${which}' names ${anchor}, which is not one of your push rules of this kind`);
    }
    index = placement.before !== undefined ? at : at + 1;
  }
  return [...order.slice(0, index), ruleId, ...order.slice(index)];
}

async function writePositions(tx: Queryable, userId: string, kind: PushRuleKind, order: readonly string[]): Promise<void> {
  for (const [position, ruleId] of order.entries()) {
    await tx.execute('UPDATE push_rules SET position = ? WHERE user_id = ? AND kind = ? AND rule_id = ?', [
      position,
      userId,
      kind,
      ruleId,
    ]);
  }
}
