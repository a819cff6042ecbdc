// The key server, /_matrix/key/v2 (server-server-api.md, "Retrieving server
// keys"): this server's own keys, and the notary endpoints through which
// other servers fetch a server's keys via us. Unauthenticated, as the spec
// and Synapse have them: the responses are signed, not the requests.
import { badJson, invalidParam, missingParam } from '../../core/errors.js';
import { isValidServerName } from '../../core/identifiers.js';
import type { SigningKey } from '../../core/signing.js';
import type { JsonValue } from '../../core/types.js';
import type { KeyQuery, KeyRing } from '../../federation/key-ring.js';
import { serverKeysResponse } from '../../federation/own-keys.js';
import type { Route } from '../types.js';
import { requireObject } from '../validate.js';

export interface ServerKeyOptions {
  serverName: string;
  signingKeys: readonly SigningKey[];
  keyRing: KeyRing;
  clock?: () => number;
}

export function serverKeyRoutes(opts: ServerKeyOptions): Route[] {
  const clock = opts.clock ?? Date.now;
  const ownKeys = async () => ({ body: serverKeysResponse(opts.serverName, opts.signingKeys, clock()) });
  const queryOne = async (serverName: string, keyId: string | undefined, minimum: string | null) => {
    if (!isValidServerName(serverName)) throw invalidParam(`${JSON.stringify(serverName)} is not a server name`);
    const minimumValidUntilTs = minimum === null ? undefined : parseTimestamp(minimum, 'minimum_valid_until_ts');
    const criteria = keyId === undefined ? { keyIds: new Map(), minimumValidUntilTs } : { keyIds: new Map([[keyId, minimumValidUntilTs]]) };
    return { body: { server_keys: await opts.keyRing.notaryResponse(new Map([[serverName, criteria]])) } };
  };
  return [
    /** # GET /_matrix/key/v2/server */
    { method: 'GET', path: '/_matrix/key/v2/server', auth: 'none', handler: ownKeys },
    // Deprecated form with a key ID; like Synapse, the ID is ignored and all keys are returned.
    { method: 'GET', path: '/_matrix/key/v2/server/{keyId}', auth: 'none', handler: ownKeys },
    /** # GET /_matrix/key/v2/query/{serverName} */
    {
      method: 'GET',
      path: '/_matrix/key/v2/query/{serverName}',
      auth: 'none',
      handler: (req) => queryOne(req.params.serverName!, undefined, req.query.get('minimum_valid_until_ts')),
    },
    // Deprecated since v1.6 but still sent by older servers (Synapse answers it too).
    {
      method: 'GET',
      path: '/_matrix/key/v2/query/{serverName}/{keyId}',
      auth: 'none',
      handler: (req) => queryOne(req.params.serverName!, req.params.keyId!, req.query.get('minimum_valid_until_ts')),
    },
    /** # POST /_matrix/key/v2/query */
    {
      method: 'POST',
      path: '/_matrix/key/v2/query',
      auth: 'none',
      handler: async (req) => ({ body: { server_keys: await opts.keyRing.notaryResponse(parseBulkQuery(req.body)) } }),
    },
  ];
}

/** `{"server_keys": {server: {keyId: {"minimum_valid_until_ts": n}}}}` → KeyQuery. */
function parseBulkQuery(body: JsonValue | undefined): KeyQuery {
  const request = requireObject(body);
  const serverKeys = request['server_keys'];
  if (serverKeys === undefined) throw missingParam("Missing required field 'server_keys'");
  const query: KeyQuery = new Map();
  for (const [serverName, keys] of Object.entries(asObject(serverKeys, 'server_keys'))) {
    if (!isValidServerName(serverName)) throw invalidParam(`server_keys: ${JSON.stringify(serverName)} is not a server name`);
    const keyIds = new Map<string, number | undefined>();
    for (const [keyId, criterion] of Object.entries(asObject(keys, `server_keys.${serverName}`))) {
      const minimum = asObject(criterion, `server_keys.${serverName}.${keyId}`)['minimum_valid_until_ts'];
      if (minimum !== undefined && minimum !== null && (typeof minimum !== 'number' || !Number.isInteger(minimum))) {
        throw badJson(`server_keys.${serverName}.${keyId}.minimum_valid_until_ts must be an integer timestamp`);
      }
      keyIds.set(keyId, typeof minimum === 'number' ? minimum : undefined);
    }
    query.set(serverName, { keyIds });
  }
  return query;
}

function asObject(value: JsonValue | undefined, where: string): Record<string, JsonValue> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badJson(`${where} must be a JSON object`);
  return value;
}

function parseTimestamp(text: string, name: string): number {
  if (!/^\d{1,16}$/.test(text)) throw invalidParam(`${name} must be a millisecond timestamp, got ${JSON.stringify(text)}`);
  return Number(text);
}
