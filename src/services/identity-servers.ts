// The homeserver as a client of identity servers (identity-service-api.md):
// binding and unbinding third-party identifiers for users, looking one up
// (v2 /hash_details and /lookup, "Lookup" with sha256 pepper hashing),
// storing an invite for an unbound one ("Invitation storage") and checking
// an identity server key (/pubkey/isvalid). Identity servers are named by
// clients (id_server: a host and optional port, reached over HTTPS, as
// Synapse does), so every request goes through the client-chosen-server
// policy of outbound-http.ts. Services reach this through the narrow
// interfaces they declare (accounts/threepids.ts, rooms/third-party-invites.ts).
import { createHash } from 'node:crypto';
import { encodeBase64Url } from '../core/base64.js';
import { MatrixError, invalidParam } from '../core/errors.js';
import { isValidServerName } from '../core/identifiers.js';
import { signJson, type SigningKey } from '../core/signing.js';
import type { JsonObject, JsonValue } from '../core/types.js';
import { formatXMatrix } from '../core/x-matrix.js';
import type { JsonRequester, JsonResponse, OutboundJsonRequest } from './outbound-http.js';

export interface IdentityServerDeps {
  request: JsonRequester;
  /** Unbinding is authenticated by our signature (Synapse's try_unbind_threepid_with_id_server). */
  serverName: string;
  signingKey: SigningKey;
}

/** What /store-invite gave for an m.room.third_party_invite event. */
export interface StoredInvite {
  token: string;
  displayName: string;
  publicKeys: Array<{ public_key: string; key_validity_url: string }>;
  /** The key for the event's top-level public_key and key_validity_url (kept for older servers). */
  fallback: { public_key: string; key_validity_url: string };
}

/** The fields of a /store-invite request besides medium and address (identity-service-api "Invitation storage"). */
export interface InviteDetails {
  room_id: string;
  sender: string;
  room_alias?: string;
  room_avatar_url?: string;
  room_join_rules?: string;
  room_name?: string;
  room_type?: string;
  sender_display_name?: string;
  sender_avatar_url?: string;
}

export class IdentityServerClient {
  constructor(private readonly deps: IdentityServerDeps) {}

  /**
   * POST /_matrix/identity/v2/3pid/bind for a validation session the client
   * completed with the identity server. Returns the bound medium and address.
   */
  async bind(idServer: string, idAccessToken: string, sid: string, clientSecret: string, mxid: string): Promise<{ medium: string; address: string }> {
    const answer = await this.call(idServer, {
      method: 'POST',
      url: `${baseUrl(idServer)}/3pid/bind`,
      headers: bearer(idAccessToken),
      body: { sid, client_secret: clientSecret, mxid },
    });
    const body = expectOk(idServer, 'bind the identifier', answer);
    if (typeof body['medium'] !== 'string' || typeof body['address'] !== 'string') {
      throw new MatrixError(502, 'M_UNKNOWN', `The identity server ${idServer} answered the bind without the medium and address it bound`);
    }
    return { medium: body['medium'], address: body['address'] };
  }

  /**
   * POST /_matrix/identity/v2/3pid/unbind, signed by this server in the
   * X-Matrix scheme (identity-service-api "Association": the homeserver's
   * signature proves the request comes from the user's server). False when
   * the identity server does not support unbinding (400, 404 or 501, as
   * Synapse reads them); any other failure throws.
   */
  async unbind(idServer: string, mxid: string, medium: string, address: string): Promise<boolean> {
    const path = '/_matrix/identity/v2/3pid/unbind';
    const content: JsonObject = { mxid, threepid: { medium, address } };
    const { serverName, signingKey } = this.deps;
    // Synapse signs {method, uri, origin, destination_is, content}: there is no federation destination.
    const signed = signJson({ method: 'POST', uri: path, origin: serverName, destination_is: idServer, content }, serverName, signingKey);
    const authorization = formatXMatrix({ origin: serverName, key: signingKey.keyId, sig: signed.signatures[serverName]![signingKey.keyId]! });
    const answer = await this.call(idServer, { method: 'POST', url: `https://${idServer}${path}`, headers: { Authorization: authorization }, body: content });
    if (answer.status === 400 || answer.status === 404 || answer.status === 501) return false;
    expectOk(idServer, 'unbind the identifier', answer);
    return true;
  }

  /**
   * The Matrix ID `medium`/`address` is bound to on the identity server, if
   * any: /hash_details, then /lookup with the sha256 of "address medium
   * pepper" (or the plain "address medium" when the server only offers
   * `none`).
   */
  async lookup(idServer: string, idAccessToken: string, medium: string, address: string): Promise<string | undefined> {
    const details = expectOk(
      idServer,
      'give its hashing details',
      await this.call(idServer, { method: 'GET', url: `${baseUrl(idServer)}/hash_details`, headers: bearer(idAccessToken) }),
    );
    const algorithms = details['algorithms'];
    const pepper = details['lookup_pepper'];
    if (!Array.isArray(algorithms) || typeof pepper !== 'string') {
      throw new MatrixError(502, 'M_UNKNOWN', `The identity server ${idServer} sent hash details without algorithms and lookup_pepper`);
    }
    let algorithm: string;
    let lookupValue: string;
    if (algorithms.includes('sha256')) {
      algorithm = 'sha256';
      lookupValue = encodeBase64Url(createHash('sha256').update(`${address} ${medium} ${pepper}`).digest());
    } else if (algorithms.includes('none')) {
      algorithm = 'none';
      lookupValue = `${address} ${medium}`;
    } else {
      throw new MatrixError(400, 'M_UNKNOWN', `The identity server ${idServer} offers no lookup algorithm this server supports (sha256 or none)`);
    }
    const result = expectOk(
      idServer,
      'look the identifier up',
      await this.call(idServer, {
        method: 'POST',
        url: `${baseUrl(idServer)}/lookup`,
        headers: bearer(idAccessToken),
        body: { addresses: [lookupValue], algorithm, pepper },
      }),
    );
    const mappings = result['mappings'];
    const mxid = isObject(mappings) ? mappings[lookupValue] : undefined;
    return typeof mxid === 'string' ? mxid : undefined;
  }

  /** POST /_matrix/identity/v2/store-invite: the token and keys of an invite for an unbound identifier. */
  async storeInvite(idServer: string, idAccessToken: string, medium: string, address: string, details: InviteDetails): Promise<StoredInvite> {
    const answer = await this.call(idServer, {
      method: 'POST',
      url: `${baseUrl(idServer)}/store-invite`,
      headers: bearer(idAccessToken),
      body: { medium, address, ...details } as JsonObject,
    });
    const body = expectOk(idServer, 'store the invite', answer);
    const { token, display_name: displayName } = body;
    if (typeof token !== 'string' || typeof displayName !== 'string') {
      throw new MatrixError(502, 'M_UNKNOWN', `The identity server ${idServer} stored the invite but sent no token and display_name`);
    }
    const keyValidityUrl = `${baseUrl(idServer)}/pubkey/isvalid`;
    const publicKeys = (Array.isArray(body['public_keys']) ? body['public_keys'] : []).flatMap((entry) =>
      isObject(entry) && typeof entry['public_key'] === 'string' && typeof entry['key_validity_url'] === 'string'
        ? [{ public_key: entry['public_key'], key_validity_url: entry['key_validity_url'] }]
        : [],
    );
    // The deprecated single public_key comes with the v2 isvalid URL (Synapse's fallback_public_key).
    const fallback = typeof body['public_key'] === 'string' ? { public_key: body['public_key'], key_validity_url: keyValidityUrl } : publicKeys[0];
    if (!fallback) throw new MatrixError(502, 'M_UNKNOWN', `The identity server ${idServer} stored the invite but sent no public key`);
    return { token, displayName, publicKeys: publicKeys.length > 0 ? publicKeys : [fallback], fallback };
  }

  /**
   * Whether the identity server still vouches for `publicKey`: GET
   * `keyValidityUrl`?public_key= answers {valid} (identity-service-api
   * "Key management"). An unreachable server throws 502.
   */
  async isKeyValid(keyValidityUrl: string, publicKey: string): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(keyValidityUrl);
    } catch {
      return false;
    }
    url.searchParams.set('public_key', publicKey);
    const answer = await this.call(url.host, { method: 'GET', url: url.toString() });
    return answer.status === 200 && isObject(answer.body) && answer.body['valid'] === true;
  }

  private async call(idServer: string, request: OutboundJsonRequest): Promise<JsonResponse> {
    try {
      return await this.deps.request(request);
    } catch (err) {
      throw new MatrixError(502, 'M_UNKNOWN', `Could not reach the identity server ${idServer}: ${(err as Error).message}`);
    }
  }
}

/** id_server is a host name with an optional port (Synapse's valid_id_server_location, without paths). */
export function requireIdServer(idServer: string, field = 'id_server'): string {
  if (!isValidServerName(idServer)) throw invalidParam(`${field} must be an identity server's host name with an optional port, such as id.example.org, not '${idServer}'`);
  return idServer;
}

function baseUrl(idServer: string): string {
  return `https://${idServer}/_matrix/identity/v2`;
}

function bearer(idAccessToken: string): Record<string, string> {
  return { Authorization: `Bearer ${idAccessToken}` };
}

/**
 * The body of a 200 answer. An identity server's refusal (4xx) is passed on
 * with its errcode, as Synapse does, but never as 401 (the client's own
 * access token is fine: the id access token was refused, so 403) nor as
 * 404/405 (that would say this endpoint is missing here): those and
 * anything else are 502.
 */
function expectOk(idServer: string, action: string, answer: JsonResponse): JsonObject {
  const body = isObject(answer.body) ? answer.body : undefined;
  if (answer.status === 200 && body) return body;
  const error = typeof body?.['error'] === 'string' ? `: ${body['error']}` : '';
  const message = `The identity server ${idServer} would not ${action} (HTTP ${answer.status})${error}`;
  const errcode = typeof body?.['errcode'] === 'string' ? body['errcode'] : 'M_UNKNOWN';
  if (answer.status === 401) throw new MatrixError(403, errcode, message);
  if (answer.status >= 400 && answer.status < 500 && answer.status !== 404 && answer.status !== 405) throw new MatrixError(answer.status, errcode, message);
  throw new MatrixError(502, 'M_UNKNOWN', message);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
