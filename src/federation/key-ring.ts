// Other servers' signing keys (server-server-api.md, "Retrieving server
// keys"): found in our cache (memory, then the server_keys table), else
// through the trusted notaries (trusted_key_servers, POST
// /_matrix/key/v2/query), else from the server itself (GET
// /_matrix/key/v2/server), as Synapse's Keyring orders its fetchers. Also
// what the notary endpoints answer with, and the checks that use the keys:
// signed JSON (request authentication) and event signatures.
//
// A source that fails slowly (a notary with no route, as matrix.org on an
// isolated LAN; an origin that is down) is skipped for a back-off period, so
// it costs one timeout, not one per request.
import { decodeBase64, encodeBase64, tryDecodeBase64 } from '../core/base64.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { EventLike } from '../core/redaction.js';
import type { RoomVersionRules } from '../core/room-versions.js';
import { signJson, verifyJsonSignature, type SigningKey } from '../core/signing.js';
import type { JsonObject, JsonValue } from '../core/types.js';
import type { TrustedKeyServer } from '../config/types.js';
import type { ServerKeyStore, StoredServerKey } from '../storage/server-keys.js';
import type { FederationClient } from './client.js';
import { FederationError } from './errors.js';
import { checkEventSignatures, checkSignatures, keyValidityNeeded, requiredSigners, signatureKeyIds, SignatureError, type KnownKeys, type VerifyKey } from './event-signatures.js';
import { KEY_VALIDITY_MS, serverKeysResponse } from './own-keys.js';

/** What a notary query asks of one server. */
export interface ServerKeyCriteria {
  /** Key ID → minimum_valid_until_ts (undefined: now). Empty: all the server's keys. */
  keyIds: Map<string, number | undefined>;
  /** For all-keys queries (GET /query/{serverName}); undefined: now. */
  minimumValidUntilTs?: number;
}

/** A notary query: server name → what is asked of it. */
export type KeyQuery = Map<string, ServerKeyCriteria>;

export interface KeyRingOptions {
  serverName: string;
  /** Our own keys: our signatures are checked without a fetch, and the notary signs with them. */
  signingKeys: readonly SigningKey[];
  store: ServerKeyStore;
  client: FederationClient;
  trustedKeyServers: readonly TrustedKeyServer[];
  clock?: () => number;
  /** Deadline for a notary's answer. Default 5 s: a notary is a shortcut, not a necessity. */
  notaryTimeoutMs?: number;
  /** Deadline for a server's own keys. Default 10 s, Synapse's. */
  originTimeoutMs?: number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/** Back-off after a failed fetch: doubles per failure, from `firstMs` up to `maxMs`. */
interface BackoffPolicy {
  firstMs: number;
  maxMs: number;
}
/**
 * Only a source that made us wait is skipped for a while: one that answers
 * an error at once costs nothing to ask again (and a notary asked for keys
 * should ask the server again after its HTTP error).
 */
const SLOW_FAILURE_MS = 1_000;
/** An unreachable notary is rarely back soon; asking each server directly works meanwhile. */
const NOTARY_BACKOFF: BackoffPolicy = { firstMs: 10 * 60_000, maxMs: 60 * 60_000 };
/** A server whose requests we are verifying is probably up: retry it sooner. */
const ORIGIN_BACKOFF: BackoffPolicy = { firstMs: 30_000, maxMs: 10 * 60_000 };

export class KeyRing {
  private readonly clock: () => number;
  private readonly cache = new Map<string, StoredServerKey | null>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, { until: number; count: number }>();

  constructor(private readonly options: KeyRingOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * The keys among `keyIds` of `serverName` that we have or can fetch. A key
   * whose validity ends before `minimumValidUntilTs` is refetched, and still
   * returned (stale) if nothing better comes: the caller decides.
   */
  async getVerifyKeys(serverName: string, keyIds: readonly string[], minimumValidUntilTs: number): Promise<Map<string, VerifyKey>> {
    if (serverName === this.options.serverName) return this.ownKeys(keyIds);
    const found = await this.cachedKeys(serverName, keyIds);
    const wanted = keyIds.filter((id) => (found.get(id)?.validUntilTs ?? -1) < minimumValidUntilTs);
    if (wanted.length === 0) return found;
    await this.fetchOnce(serverName, wanted, minimumValidUntilTs);
    for (const [id, key] of await this.cachedKeys(serverName, wanted)) found.set(id, key);
    return found;
  }

  /**
   * Checks `serverName`'s signatures on `json` (e.g. a request's X-Matrix
   * JSON): every signature by a key usable at `minimumValidUntilTs` must be
   * valid, and there must be at least one.
   */
  async verifyJsonForServer(serverName: string, json: JsonObject, minimumValidUntilTs: number): Promise<void> {
    const keyIds = signatureKeyIds(json, serverName);
    if (keyIds.length === 0) throw new SignatureError(`not signed by ${serverName}`);
    const keys = await this.getVerifyKeys(serverName, keyIds, minimumValidUntilTs);
    // Not strict canonical JSON: a request may carry a PDU with floats, which
    // is refused as a PDU afterwards (400), not as a forged request (401).
    checkSignatures(serverName, keyIds, keys, (key) => key.validUntilTs >= minimumValidUntilTs, (key) =>
      verifyJsonSignature(json, serverName, key.keyId, key.key, { strict: false }),
    );
  }

  /**
   * Checks the signatures an event needs (server-server-api.md, "Validating
   * hashes and signatures on received events"): the sender's server (not for
   * an invite through a third-party invite), in rooms v1–2 also the server of
   * the event ID, and for a restricted join the server that authorised it.
   * Throws SignatureError naming the server and what was wrong.
   */
  async verifyEventSignatures(pdu: EventLike & { event_id?: string }, rules: RoomVersionRules): Promise<void> {
    checkEventSignatures(pdu, rules, await this.keysForEvents([pdu], rules));
  }

  /**
   * The keys that signed `pdus` and that we have or can fetch, one fetch per
   * server for the whole batch (a join response names thousands of events
   * signed by a handful of keys). A PDU naming no valid signer adds nothing:
   * checkEventSignatures reports it.
   */
  async keysForEvents(pdus: readonly (EventLike & { event_id?: string })[], rules: RoomVersionRules): Promise<KnownKeys> {
    const wanted = new Map<string, { keyIds: Set<string>; minimumValidUntilTs: number }>();
    for (const pdu of pdus) {
      let signers: Set<string>;
      try {
        signers = requiredSigners(pdu, rules);
      } catch {
        continue;
      }
      for (const serverName of signers) {
        const entry = wanted.get(serverName) ?? { keyIds: new Set<string>(), minimumValidUntilTs: 0 };
        for (const keyId of signatureKeyIds(pdu as JsonObject, serverName)) entry.keyIds.add(keyId);
        entry.minimumValidUntilTs = Math.max(entry.minimumValidUntilTs, keyValidityNeeded(pdu, rules));
        wanted.set(serverName, entry);
      }
    }
    const found = await Promise.all(
      [...wanted].map(async ([serverName, { keyIds, minimumValidUntilTs }]) => [serverName, await this.getVerifyKeys(serverName, [...keyIds], minimumValidUntilTs)] as const),
    );
    return new Map(found);
  }

  /**
   * The notary's answer (POST and GET /_matrix/key/v2/query): for each server,
   * the responses it signed itself that hold the requested keys, each with
   * our signature added. A cached response is served while it is valid until
   * the requested minimum_valid_until_ts (default: now); otherwise the server
   * is asked again, and the cached one served if it cannot be reached.
   */
  async notaryResponse(query: KeyQuery): Promise<JsonObject[]> {
    const now = this.clock();
    const responses: JsonObject[] = [];
    for (const [serverName, criteria] of query) {
      if (serverName === this.options.serverName) {
        responses.push(serverKeysResponse(serverName, this.options.signingKeys, now));
        continue;
      }
      const { keyIds } = criteria;
      let rows = await this.responseRows(serverName, keyIds);
      const stale = (id: string): boolean => (rows.find((r) => r.keyId === id)?.responseValidUntilTs ?? -1) < (keyIds.get(id) ?? now);
      const needsFetch = keyIds.size === 0 ? !rows.some((r) => r.responseValidUntilTs >= (criteria.minimumValidUntilTs ?? now)) : [...keyIds.keys()].some(stale);
      if (needsFetch && this.options.client.isAllowed(serverName)) {
        await this.fetchFromOrigin(serverName);
        rows = await this.responseRows(serverName, keyIds);
      }
      for (const json of new Set(rows.map((r) => r.keyJson))) {
        let signed = JSON.parse(json) as JsonObject;
        for (const key of this.options.signingKeys) signed = signJson(signed, this.options.serverName, key);
        responses.push(signed);
      }
    }
    return responses;
  }


  private ownKeys(keyIds: readonly string[]): Map<string, VerifyKey> {
    const validUntilTs = this.clock() + KEY_VALIDITY_MS;
    const keys = new Map<string, VerifyKey>();
    for (const k of this.options.signingKeys) {
      if (keyIds.includes(k.keyId)) keys.set(k.keyId, { keyId: k.keyId, key: k.publicKey, validUntilTs, expiredTs: null });
    }
    return keys;
  }

  private async cachedKeys(serverName: string, keyIds: readonly string[]): Promise<Map<string, VerifyKey>> {
    const keys = new Map<string, VerifyKey>();
    for (const keyId of keyIds) {
      const cacheKey = `${serverName}\0${keyId}`;
      let row = this.cache.get(cacheKey);
      if (row === undefined) {
        row = (await this.options.store.getKey(serverName, keyId)) ?? null;
        this.cache.set(cacheKey, row);
      }
      if (row !== null) keys.set(keyId, { keyId, key: decodeBase64(row.verifyKey), validUntilTs: row.validUntilTs, expiredTs: row.expiredTs });
    }
    return keys;
  }

  private async responseRows(serverName: string, keyIds: Map<string, number | undefined>): Promise<StoredServerKey[]> {
    const rows = await this.options.store.getKeys(serverName);
    return keyIds.size === 0 ? rows : rows.filter((r) => keyIds.has(r.keyId));
  }

  /**
   * One fetch per server at a time: concurrent requests from one origin wait
   * for the same answer, and fetch again only if it lacked what they need.
   */
  private async fetchOnce(serverName: string, keyIds: readonly string[], minimumValidUntilTs: number): Promise<void> {
    const running = this.inFlight.get(serverName);
    if (running !== undefined) {
      await running;
      if (await this.satisfies(serverName, keyIds, minimumValidUntilTs)) return;
    }
    const fetch = this.fetch(serverName, keyIds, minimumValidUntilTs).finally(() => {
      if (this.inFlight.get(serverName) === fetch) this.inFlight.delete(serverName);
    });
    this.inFlight.set(serverName, fetch);
    return fetch;
  }

  private async fetch(serverName: string, keyIds: readonly string[], minimumValidUntilTs: number): Promise<void> {
    for (const notary of this.options.trustedKeyServers) {
      if (notary.serverName === serverName || this.backingOff(`notary ${notary.serverName}`)) continue;
      const started = this.clock();
      try {
        await this.fetchFromNotary(notary, serverName, keyIds, minimumValidUntilTs);
        this.succeeded(`notary ${notary.serverName}`);
      } catch (err) {
        this.failed(`notary ${notary.serverName}`, NOTARY_BACKOFF, started, err, { notary: notary.serverName, server: serverName });
        continue;
      }
      if (await this.satisfies(serverName, keyIds, minimumValidUntilTs)) return;
    }
    await this.fetchFromOrigin(serverName);
  }

  private async satisfies(serverName: string, keyIds: readonly string[], minimumValidUntilTs: number): Promise<boolean> {
    const keys = await this.cachedKeys(serverName, keyIds);
    return keyIds.every((id) => (keys.get(id)?.validUntilTs ?? -1) >= minimumValidUntilTs);
  }

  private async fetchFromOrigin(serverName: string): Promise<void> {
    const source = `origin ${serverName}`;
    if (this.backingOff(source)) return;
    const now = this.clock();
    try {
      const response = await this.options.client.request<JsonObject>(serverName, 'GET', '/_matrix/key/v2/server', {
        timeoutMs: this.options.originTimeoutMs ?? 10_000,
      });
      await this.storeResponse(response, serverName, serverName, now);
      this.succeeded(source);
    } catch (err) {
      this.failed(source, ORIGIN_BACKOFF, now, err, { server: serverName });
    }
  }

  private async fetchFromNotary(notary: TrustedKeyServer, serverName: string, keyIds: readonly string[], minimumValidUntilTs: number): Promise<void> {
    const now = this.clock();
    const criteria: JsonObject = {};
    for (const id of keyIds) criteria[id] = { minimum_valid_until_ts: minimumValidUntilTs };
    const answer = await this.options.client.request<{ server_keys?: JsonValue }>(notary.serverName, 'POST', '/_matrix/key/v2/query', {
      body: { server_keys: { [serverName]: criteria } },
      timeoutMs: this.options.notaryTimeoutMs ?? 5_000,
    });
    if (!Array.isArray(answer.server_keys)) throw new SignatureError(`the notary ${notary.serverName} answered without a server_keys list`);
    for (const response of answer.server_keys) {
      if (!isObject(response) || response['server_name'] !== serverName) continue;
      try {
        checkNotarySignature(response, notary);
        await this.storeResponse(response, serverName, notary.serverName, now);
      } catch (err) {
        this.options.log?.('ignoring a key response from a notary', { notary: notary.serverName, server: serverName, reason: (err as Error).message });
      }
    }
  }

  /**
   * Checks a key response (it must be the server's, self-signed by one of its
   * verify_keys) and stores its keys. Old keys are valid until their
   * expired_ts; current ones until valid_until_ts, but "the lesser of
   * valid_until_ts and 7 days into the future".
   */
  private async storeResponse(response: JsonObject, serverName: string, fromServer: string, now: number): Promise<void> {
    const parsed = checkSelfSignedKeys(response, serverName);
    const ownSignatures = (response['signatures'] as JsonObject)[serverName]!;
    const keyJson = canonicalJson({ ...response, signatures: { [serverName]: ownSignatures } });
    const common = { serverName, fromServer, fetchedTs: now, responseValidUntilTs: parsed.validUntilTs, keyJson };
    const rows: StoredServerKey[] = [
      ...[...parsed.verifyKeys].map(([keyId, key]) => ({
        ...common,
        keyId,
        verifyKey: encodeBase64(key),
        validUntilTs: Math.min(parsed.validUntilTs, now + KEY_VALIDITY_MS),
        expiredTs: null,
      })),
      ...[...parsed.oldKeys].map(([keyId, old]) => ({ ...common, keyId, verifyKey: encodeBase64(old.key), validUntilTs: old.expiredTs, expiredTs: old.expiredTs })),
    ];
    await this.options.store.storeKeys(rows);
    for (const row of rows) this.cache.delete(`${serverName}\0${row.keyId}`);
  }

  private backingOff(source: string): boolean {
    const failure = this.failures.get(source);
    return failure !== undefined && failure.until > this.clock();
  }

  private succeeded(source: string): void {
    this.failures.delete(source);
  }

  private failed(source: string, policy: BackoffPolicy, startedAt: number, err: unknown, fields: Record<string, unknown>): void {
    const slow = (err instanceof FederationError && err.kind === 'timeout') || this.clock() - startedAt >= SLOW_FAILURE_MS;
    if (!slow) {
      this.options.log?.(`key fetch from ${source} failed`, { ...fields, reason: (err as Error).message });
      return;
    }
    const count = (this.failures.get(source)?.count ?? 0) + 1;
    const waitMs = Math.min(policy.firstMs * 2 ** (count - 1), policy.maxMs);
    this.failures.set(source, { until: this.clock() + waitMs, count });
    this.options.log?.(`key fetch from ${source} failed; not asking it again for ${Math.round(waitMs / 1000)} s`, { ...fields, reason: (err as Error).message });
  }
}



export interface ParsedKeyResponse {
  validUntilTs: number;
  verifyKeys: Map<string, Buffer>;
  oldKeys: Map<string, { key: Buffer; expiredTs: number }>;
  /** The verify_keys whose signature on the response is valid (at least one). */
  selfSignedBy: string[];
}

/**
 * A server's own key response (GET /_matrix/key/v2/server), checked as
 * fetching it does: it must be for `serverName` and signed by at least one
 * of its own verify_keys. Throws SignatureError saying what is wrong.
 */
export function checkSelfSignedKeys(response: JsonObject, serverName: string): ParsedKeyResponse {
  const parsed = parseKeyResponse(response, serverName);
  const selfSignedBy = [...parsed.verifyKeys]
    .filter(([keyId, key]) => signatureKeyIds(response, serverName).includes(keyId) && verifyJsonSignature(response, serverName, keyId, key))
    .map(([keyId]) => keyId);
  if (selfSignedBy.length === 0) throw new SignatureError(`the key response of ${serverName} is not signed with any of its own verify_keys`);
  return { ...parsed, selfSignedBy };
}

/** The fields of a Server Keys object (data/api/server-server/definitions/keys.yaml) we rely on; ed25519 keys only. */
function parseKeyResponse(response: JsonObject, serverName: string): Omit<ParsedKeyResponse, 'selfSignedBy'> {
  if (response['server_name'] !== serverName) {
    throw new SignatureError(`asked for the keys of ${serverName}, got keys of ${JSON.stringify(response['server_name'])}`);
  }
  const validUntilTs = response['valid_until_ts'];
  if (typeof validUntilTs !== 'number' || !Number.isInteger(validUntilTs)) throw new SignatureError(`the key response of ${serverName} has no integer valid_until_ts`);
  const verifyKeys = new Map<string, Buffer>();
  const oldKeys = new Map<string, { key: Buffer; expiredTs: number }>();
  for (const [keyId, entry] of Object.entries(objectOr(response['verify_keys']))) {
    const key = ed25519Key(keyId, entry);
    if (key !== null) verifyKeys.set(keyId, key);
  }
  for (const [keyId, entry] of Object.entries(objectOr(response['old_verify_keys']))) {
    const key = ed25519Key(keyId, entry);
    const expiredTs = isObject(entry) ? entry['expired_ts'] : undefined;
    if (key !== null && typeof expiredTs === 'number') oldKeys.set(keyId, { key, expiredTs });
  }
  return { validUntilTs, verifyKeys, oldKeys };
}

function ed25519Key(keyId: string, entry: JsonValue | undefined): Buffer | null {
  if (!keyId.startsWith('ed25519:') || !isObject(entry) || typeof entry['key'] !== 'string') return null;
  const key = tryDecodeBase64(entry['key']);
  return key !== null && key.length === 32 ? key : null;
}

/**
 * With verify_keys configured for a notary, its signature on each response
 * is required; without (accept_keys_insecurely, or trusting its verified TLS
 * certificate as Synapse does), the response is taken as the notary sent it.
 */
function checkNotarySignature(response: JsonObject, notary: TrustedKeyServer): void {
  if (notary.verifyKeys === undefined) return;
  const signedWith = signatureKeyIds(response, notary.serverName).filter((id) => notary.verifyKeys![id] !== undefined);
  if (signedWith.length === 0) throw new SignatureError(`the response is not signed by ${notary.serverName} with a key listed in trusted_key_servers`);
  for (const keyId of signedWith) {
    if (!verifyJsonSignature(response, notary.serverName, keyId, decodeBase64(notary.verifyKeys[keyId]!))) {
      throw new SignatureError(`the signature of ${notary.serverName} with ${keyId} is not valid`);
    }
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectOr(value: JsonValue | undefined): JsonObject {
  return isObject(value) ? value : {};
}
