// Redundant membership events (client-server-api/_index.md, "Lazy-loading
// room members"): while lazy-loading, the server MAY assume that a client
// remembers the member events it was already sent and skip them, unless the
// filter sets include_redundant_members. As in Synapse, which member events
// each device was sent is kept in memory and bounded: one forgotten (or lost
// at a restart) is merely sent again, which the spec allows.
//
// A member event counts as held only once the device has used a token at or
// after the response that carried it: a client that repeats a sync from an
// older token (its response was lost) is sent the events again.

/** Synapse's LAZY_LOADED_MEMBERS_CACHE_MAX_SIZE: member events remembered per device. */
const MAX_PER_DEVICE = 100;
const MAX_DEVICES = 2000;

/** One /sync pass's view of the record: what the device holds, and what this response adds. */
export interface MemberLedger {
  /** Member event IDs the device certainly holds: not to be sent again. */
  readonly held: ReadonlySet<string>;
  /** Member event IDs this response carries, recorded once it is answered. */
  readonly sent: Set<string>;
}

export class SentMemberEvents {
  /** Per device (least recently used first): member event ID → events position of the response that carried it. */
  private readonly devices = new Map<string, Map<string, number>>();

  /**
   * The ledger of a pass from `since` (the client's events position;
   * undefined on an initial sync, whose client starts afresh and holds
   * nothing). `dedupe` false (full_state) sends every member the pass needs.
   */
  ledger(userId: string, deviceId: string, since: number | undefined, dedupe: boolean): MemberLedger {
    const held = new Set<string>();
    const record = this.devices.get(deviceKey(userId, deviceId));
    if (since !== undefined && record && dedupe) {
      for (const [eventId, position] of record) if (position <= since) held.add(eventId);
    }
    return { held, sent: new Set() };
  }

  /**
   * Records what an answered response carried. `position` is its events
   * position; an initial sync (`since` undefined) starts the record afresh.
   */
  record(userId: string, deviceId: string, since: number | undefined, position: number, ledger: MemberLedger): void {
    const key = deviceKey(userId, deviceId);
    const record = (since === undefined ? undefined : this.devices.get(key)) ?? new Map<string, number>();
    this.devices.delete(key);
    this.devices.set(key, record);
    // Responses after `since` were not followed (the client went back to an
    // older token): what only they carried is not held.
    if (since !== undefined) for (const [eventId, at] of record) if (at > since) record.delete(eventId);
    // A response that did not move the events position could be answered
    // again from the same token: nothing it carried can count as held.
    if (since === undefined || position > since) {
      for (const eventId of ledger.sent) {
        record.delete(eventId);
        record.set(eventId, position);
      }
    }
    for (const eventId of record.keys()) {
      if (record.size <= MAX_PER_DEVICE) break;
      record.delete(eventId);
    }
    for (const device of this.devices.keys()) {
      if (this.devices.size <= MAX_DEVICES) break;
      this.devices.delete(device);
    }
  }
}

function deviceKey(userId: string, deviceId: string): string {
  return `${userId}\0${deviceId}`;
}
