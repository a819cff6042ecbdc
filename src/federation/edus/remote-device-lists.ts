// Other servers' users' devices and keys (server-server-api "Device
// Management", "End-to-End Encryption"), as local clients need them to
// encrypt for those users.
//
// A remote user is tracked while this server shares a room with them: their
// device list is cached (e2e_remote_devices), first from GET /user/devices,
// then kept current by their server's m.device_list_update EDUs. An update
// whose prev_id is the update last applied continues the list; any other
// (a missed update, or the first one after joining: prev_id empty) makes us
// fetch the list again, as the spec asks. Keys of users nobody here shares a
// room with are asked of their server on each query (POST /user/keys/query).
import { serverNameOfUserId } from '../../core/identifiers.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../core/types.js';
import { crossSigningPublicKey } from '../../services/e2ee/common.js';
import type { ClaimResult, QueryResult, RemoteKeySource } from '../../services/e2ee/index.js';
import { KeyedQueue } from '../../services/rooms/keyed-queue.js';
import type { Database } from '../../storage/database.js';
import type { CrossSigningKeyType, KeyStore, RemoteDevice, RemoteDeviceStore } from '../../storage/e2ee/index.js';
import { FederationError } from '../errors.js';
import { federationPath, type FederationRequester } from '../requester.js';
import type { TaskLog } from '../../services/background-tasks.js';

const V1 = '/_matrix/federation/v1';
/** Stream IDs applied since the last fetch, kept per user so an update naming any of them continues the list (Synapse keeps these too). */
const APPLIED_PER_USER = 100;
const APPLIED_USERS = 10_000;

export type RemoteQueryResult = Omit<QueryResult, 'user_signing_keys'>;

/** An m.device_list_update's content, checked. */
export interface DeviceListUpdate {
  userId: string;
  deviceId: string;
  /** Stream IDs are compared as strings: servers send integers, Synapse accepts strings too. */
  streamId: string;
  prevIds: string[];
  deleted: boolean;
  keys: JsonObject | null;
  displayName: string | null;
}

/** An m.signing_key_update's keys, checked. */
export interface SigningKeys {
  master?: JsonObject;
  selfSigning?: JsonObject;
}

export interface RemoteDeviceListDeps {
  db: Database;
  client: FederationRequester;
  store: RemoteDeviceStore;
  keys: Pick<KeyStore, 'getCrossSigningKeys' | 'setCrossSigningKey'>;
  serverName: string;
  clock: () => number;
  log: TaskLog;
}

/** Runs when a tracked user's cached devices or cross-signing keys change: local users sharing a room must re-fetch them. */
export type RemoteListListener = (userId: string) => Promise<void>;

export class RemoteDeviceLists implements RemoteKeySource {
  /** One user's list changes one step at a time: updates, fetches and forgetting. */
  private readonly perUser = new KeyedQueue();
  private readonly applied = new Map<string, Set<string>>();
  private readonly listeners: RemoteListListener[] = [];

  constructor(private readonly deps: RemoteDeviceListDeps) {}

  onChanged(listener: RemoteListListener): void {
    this.listeners.push(listener);
  }

  /** Device and cross-signing keys of other servers' users; each server answers within `timeoutMs` or is named in `failures`. */
  async query(request: Record<string, readonly string[]>, timeoutMs: number): Promise<RemoteQueryResult> {
    const out: RemoteQueryResult = { device_keys: {}, master_keys: {}, self_signing_keys: {}, failures: {} };
    await Promise.all([...byServer(request)].map(([server, users]) => this.queryServer(server, users, timeoutMs, out)));
    return out;
  }

  /** One-time keys of other servers' users, claimed from their servers. */
  async claim(request: Record<string, Record<string, string>>, timeoutMs: number): Promise<ClaimResult> {
    const out: ClaimResult = { one_time_keys: {}, failures: {} };
    await Promise.all(
      [...byServer(request)].map(async ([server, users]) => {
        try {
          const answer = await this.deps.client.request<JsonObject>(server, 'POST', `${V1}/user/keys/claim`, { body: { one_time_keys: users }, timeoutMs });
          takeClaimAnswer(answer, users, out);
        } catch (err) {
          out.failures[server] = failureOf(err);
        }
      }),
    );
    return out;
  }

  /**
   * Applies an m.device_list_update from the user's server. Nothing
   * happens when the user is not tracked (any stale copy is dropped) or the
   * update was applied already.
   */
  applyUpdate(update: DeviceListUpdate): Promise<void> {
    return this.perUser.run(update.userId, async () => {
      if (!(await this.isTracked(update.userId))) {
        await this.forgetNow(update.userId);
        return;
      }
      const list = await this.deps.store.list(update.userId);
      const current = list !== undefined && !list.stale;
      const applied = this.appliedFor(update.userId, current ? list.streamId : undefined);
      if (applied.has(update.streamId)) return;
      if (current && update.prevIds.length > 0 && update.prevIds.every((id) => applied.has(id))) {
        const device: RemoteDevice | undefined = update.deleted ? undefined : { deviceId: update.deviceId, displayName: update.displayName, keys: update.keys };
        await this.deps.db.transaction((tx) => this.deps.store.applyUpdate(tx, update.userId, update.streamId, update.deviceId, device, this.deps.clock()));
        this.remember(update.userId, update.streamId);
      } else {
        // Marked first, so the list is not trusted if the fetch fails (or we stop) before it completes.
        this.applied.delete(update.userId);
        await this.deps.store.markStale(update.userId, this.deps.clock());
        try {
          await this.fetch(update.userId);
        } catch (err) {
          this.deps.log('could not fetch a device list; it is fetched again when a client asks for it', {
            userId: update.userId,
            error: (err as Error).message,
          });
        }
      }
      // Even when the fetch failed: the list did change, and clients asking now get a failure rather than old keys.
      await this.tellListeners(update.userId);
    });
  }

  /** Stores the cross-signing keys of an m.signing_key_update (of a tracked user). */
  applySigningKeys(userId: string, keys: SigningKeys): Promise<void> {
    return this.perUser.run(userId, async () => {
      if (!(await this.isTracked(userId))) return;
      await this.deps.db.transaction(() => this.storeCrossSigningKeys(userId, keys));
      await this.tellListeners(userId);
    });
  }

  /** Stops tracking those of `userIds` nobody here shares a room with any more (after a leave). */
  async forgetUnshared(userIds: readonly string[]): Promise<void> {
    const remote = userIds.filter((u) => serverNameOfUserId(u) !== this.deps.serverName);
    if (remote.length === 0) return;
    const shared = await this.deps.store.sharingRoomsWithLocalUsers(remote, this.deps.serverName);
    for (const userId of remote) {
      if (!shared.has(userId)) await this.perUser.run(userId, () => this.forgetNow(userId));
    }
  }

  private async queryServer(server: string, users: Record<string, readonly string[]>, timeoutMs: number, out: RemoteQueryResult): Promise<void> {
    const tracked = await this.deps.store.sharingRoomsWithLocalUsers(Object.keys(users), this.deps.serverName);
    const direct: Record<string, string[]> = {};
    await Promise.all(
      Object.entries(users).map(async ([userId, deviceIds]) => {
        if (!tracked.has(userId)) {
          direct[userId] = [...deviceIds];
          return;
        }
        try {
          await this.perUser.run(userId, () => this.ensureCurrent(userId, timeoutMs));
          await this.fromCache(userId, deviceIds, out);
        } catch (err) {
          out.failures[server] = failureOf(err);
        }
      }),
    );
    if (Object.keys(direct).length === 0) return;
    try {
      const answer = await this.deps.client.request<JsonObject>(server, 'POST', `${V1}/user/keys/query`, { body: { device_keys: direct }, timeoutMs });
      takeQueryAnswer(answer, direct, out);
    } catch (err) {
      out.failures[server] = failureOf(err);
    }
  }

  /**
   * Fetches a tracked user's list unless the cached copy is current. A
   * fetch that finds something new is a change local users must hear of
   * (as in Synapse), like an update.
   */
  private async ensureCurrent(userId: string, timeoutMs: number): Promise<void> {
    const list = await this.deps.store.list(userId);
    if (list && !list.stale) return;
    if (await this.fetch(userId, timeoutMs)) await this.tellListeners(userId);
  }

  /** # GET /_matrix/federation/v1/user/devices/{userId}: replaces the cached list; true when it differs from the copy before. */
  private async fetch(userId: string, timeoutMs?: number): Promise<boolean> {
    const server = serverNameOfUserId(userId)!;
    const answer = await this.deps.client.request<JsonObject>(server, 'GET', federationPath(`${V1}/user/devices`, userId), { timeoutMs });
    const fetched = parseUserDevices(userId, answer, server);
    const before = await this.cached(userId);
    await this.deps.db.transaction(async (tx) => {
      await this.deps.store.replace(tx, userId, fetched.streamId, fetched.devices, this.deps.clock());
      await this.storeCrossSigningKeys(userId, fetched.keys);
    });
    this.applied.delete(userId);
    this.remember(userId, fetched.streamId);
    return before !== (await this.cached(userId));
  }

  /** The cached devices and cross-signing keys of a user, as one comparable text. */
  private async cached(userId: string): Promise<string> {
    const [devices, crossSigning] = await Promise.all([this.deps.store.devices(userId), this.deps.keys.getCrossSigningKeys(userId)]);
    return JSON.stringify([devices, crossSigning.get('master')?.key ?? null, crossSigning.get('self_signing')?.key ?? null]);
  }

  private async tellListeners(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener(userId);
  }

  private async fromCache(userId: string, deviceIds: readonly string[], out: RemoteQueryResult): Promise<void> {
    const devices: Record<string, JsonObject> = {};
    for (const device of await this.deps.store.devices(userId, deviceIds.length > 0 ? deviceIds : undefined)) {
      if (device.keys === null) continue;
      devices[device.deviceId] = device.displayName === null ? device.keys : { ...device.keys, unsigned: { device_display_name: device.displayName } };
    }
    out.device_keys[userId] = devices;
    const crossSigning = await this.deps.keys.getCrossSigningKeys(userId);
    const master = crossSigning.get('master');
    const selfSigning = crossSigning.get('self_signing');
    if (master) out.master_keys[userId] = master.key;
    if (selfSigning) out.self_signing_keys[userId] = selfSigning.key;
  }

  private async storeCrossSigningKeys(userId: string, keys: SigningKeys): Promise<void> {
    const pairs: Array<[CrossSigningKeyType, JsonObject | undefined]> = [
      ['master', keys.master],
      ['self_signing', keys.selfSigning],
    ];
    for (const [type, key] of pairs) {
      if (key) await this.deps.keys.setCrossSigningKey(this.deps.db, userId, type, crossSigningPublicKey(key)!, key);
    }
  }

  private async isTracked(userId: string): Promise<boolean> {
    return (await this.deps.store.sharingRoomsWithLocalUsers([userId], this.deps.serverName)).has(userId);
  }

  private async forgetNow(userId: string): Promise<void> {
    this.applied.delete(userId);
    await this.deps.db.transaction((tx) => this.deps.store.forget(tx, userId));
  }

  /** The stream IDs an update may name as prev_id to continue the list: the stored one and those applied since. */
  private appliedFor(userId: string, stored: string | undefined): Set<string> {
    const applied = new Set(this.applied.get(userId));
    if (stored !== undefined) applied.add(stored);
    return applied;
  }

  private remember(userId: string, streamId: string): void {
    if (!this.applied.has(userId) && this.applied.size >= APPLIED_USERS) this.applied.clear();
    const ids = this.applied.get(userId) ?? new Set<string>();
    ids.add(streamId);
    if (ids.size > APPLIED_PER_USER) ids.delete(ids.values().next().value!);
    this.applied.set(userId, ids);
  }
}

/** Checks an m.device_list_update's content from `origin`; throws saying what is wrong. */
export function parseDeviceListUpdate(origin: string, content: JsonObject): DeviceListUpdate {
  const { user_id: userId, device_id: deviceId, stream_id: streamId, prev_id: prevId, deleted, keys, device_display_name: name } = content;
  if (typeof userId !== 'string' || typeof deviceId !== 'string' || !isStreamId(streamId)) {
    throw new Error("m.device_list_update needs string 'user_id' and 'device_id' and an integer 'stream_id'");
  }
  if (serverNameOfUserId(userId) !== origin) throw new Error(`m.device_list_update for ${userId}, who is not a user of ${origin}`);
  if (prevId !== undefined && (!Array.isArray(prevId) || !prevId.every(isStreamId))) throw new Error("m.device_list_update's 'prev_id' must be a list of stream IDs");
  return {
    userId,
    deviceId,
    streamId: String(streamId),
    prevIds: (prevId ?? []).map(String),
    deleted: deleted === true,
    keys: deviceKeysOf(keys, userId, deviceId),
    displayName: typeof name === 'string' ? name : null,
  };
}

/** Checks an m.signing_key_update's content from `origin`; throws saying what is wrong. */
export function parseSigningKeyUpdate(origin: string, content: JsonObject): { userId: string; keys: SigningKeys } {
  const userId = content['user_id'];
  if (typeof userId !== 'string') throw new Error("m.signing_key_update needs a string 'user_id'");
  if (serverNameOfUserId(userId) !== origin) throw new Error(`m.signing_key_update for ${userId}, who is not a user of ${origin}`);
  return { userId, keys: signingKeysOf(content, userId) };
}

function isStreamId(value: JsonValue | undefined): value is number | string {
  return (typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'string';
}

/**
 * A device's identity keys, unless they name another user or device (those
 * are dropped). The rest, signatures included, is for clients to check, as
 * Synapse leaves it to them.
 */
function deviceKeysOf(value: JsonValue | undefined, userId: string, deviceId: string): JsonObject | null {
  if (!isJsonObject(value)) return null;
  const namesOther = (field: string, expected: string) => value[field] !== undefined && value[field] !== expected;
  return namesOther('user_id', userId) || namesOther('device_id', deviceId) ? null : value;
}

/** `master_key` and `self_signing_key` of an answer or EDU, each kept if it is the user's key of that use. */
function signingKeysOf(obj: JsonObject, userId: string): SigningKeys {
  const keyOf = (value: JsonValue | undefined, usage: string): JsonObject | undefined => {
    if (!isJsonObject(value) || value['user_id'] !== userId || crossSigningPublicKey(value) === undefined) return undefined;
    const usages = value['usage'];
    return Array.isArray(usages) && usages.includes(usage) ? value : undefined;
  };
  const keys: SigningKeys = {};
  const master = keyOf(obj['master_key'], 'master');
  const selfSigning = keyOf(obj['self_signing_key'], 'self_signing');
  if (master) keys.master = master;
  if (selfSigning) keys.selfSigning = selfSigning;
  return keys;
}

/** The answer of GET /user/devices, checked. */
function parseUserDevices(userId: string, answer: JsonObject, server: string): { streamId: string; devices: RemoteDevice[]; keys: SigningKeys } {
  const streamId = answer['stream_id'];
  const devices = answer['devices'];
  if (answer['user_id'] !== userId || !isStreamId(streamId) || !Array.isArray(devices)) {
    throw new FederationError('response', server, `${server} answered GET /user/devices for ${userId} without user_id, stream_id and devices`);
  }
  const parsed: RemoteDevice[] = [];
  for (const device of devices) {
    const deviceId = isJsonObject(device) ? device['device_id'] : undefined;
    if (!isJsonObject(device) || typeof deviceId !== 'string') continue;
    const name = device['device_display_name'];
    parsed.push({ deviceId, displayName: typeof name === 'string' ? name : null, keys: deviceKeysOf(device['keys'], userId, deviceId) });
  }
  return { streamId: String(streamId), devices: parsed, keys: signingKeysOf(answer, userId) };
}

/** Takes the parts of a /user/keys/query answer that are about the users asked for. */
function takeQueryAnswer(answer: JsonObject, asked: Record<string, readonly string[]>, out: RemoteQueryResult): void {
  const deviceKeys = isJsonObject(answer['device_keys']) ? answer['device_keys'] : {};
  const masterKeys = isJsonObject(answer['master_keys']) ? answer['master_keys'] : {};
  const selfSigningKeys = isJsonObject(answer['self_signing_keys']) ? answer['self_signing_keys'] : {};
  for (const [userId, deviceIds] of Object.entries(asked)) {
    const devices = deviceKeys[userId];
    const wanted = new Set(deviceIds);
    const kept: Record<string, JsonObject> = {};
    for (const [deviceId, keys] of Object.entries(isJsonObject(devices) ? devices : {})) {
      if ((wanted.size > 0 && !wanted.has(deviceId)) || deviceKeysOf(keys, userId, deviceId) === null) continue;
      kept[deviceId] = keys as JsonObject;
    }
    out.device_keys[userId] = kept;
    const { master, selfSigning } = signingKeysOf({ master_key: masterKeys[userId] ?? null, self_signing_key: selfSigningKeys[userId] ?? null }, userId);
    if (master) out.master_keys[userId] = master;
    if (selfSigning) out.self_signing_keys[userId] = selfSigning;
  }
}

/** Takes the keys of a /user/keys/claim answer for the devices asked for. */
function takeClaimAnswer(answer: JsonObject, asked: Record<string, Record<string, string>>, out: ClaimResult): void {
  const claimed = isJsonObject(answer['one_time_keys']) ? answer['one_time_keys'] : {};
  for (const [userId, devices] of Object.entries(asked)) {
    const forUser = claimed[userId];
    if (!isJsonObject(forUser)) continue;
    for (const deviceId of Object.keys(devices)) {
      const keys = forUser[deviceId];
      if (!isJsonObject(keys)) continue;
      (out.one_time_keys[userId] ??= {})[deviceId] = keys as Record<string, JsonObject | string>;
    }
  }
}

/** The users of a request grouped by their server. */
function byServer<T>(request: Record<string, T>): Map<string, Record<string, T>> {
  const grouped = new Map<string, Record<string, T>>();
  for (const [userId, value] of Object.entries(request)) {
    const server = serverNameOfUserId(userId);
    if (server === null) continue;
    const users = grouped.get(server) ?? {};
    users[userId] = value;
    grouped.set(server, users);
  }
  return grouped;
}

/** A `failures` entry for a server (Synapse's shape: the HTTP status, 503 when there was none, and what went wrong). */
function failureOf(err: unknown): JsonObject {
  const status = err instanceof FederationError && err.status !== undefined ? err.status : 503;
  return { status, message: err instanceof Error ? err.message : String(err) };
}
