// A fake identity server (identity-service-api.md, v2) over HTTPS with a
// certificate from the test's CA, for tests of binding and third-party
// invites. It keeps what a real one keeps — validated sessions, bindings,
// stored invites, its signing keys — checks id access tokens and the
// homeserver's X-Matrix signature on /3pid/unbind, and can bind an address
// out of band and tell the homeserver with /3pid/onbind, as Sydent does.
//
//   const ids = await startIdentityServer(ca);
//   const sid = ids.validate('email', 'alice@example.org');
//   ... POST /account/3pid/bind { id_server: ids.name, id_access_token: ids.accessToken, sid, client_secret }
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { encodeBase64, encodeBase64Url } from '../../src/core/base64.js';
import { generateSigningKey, signJson, verifyJsonSignature, type SigningKey } from '../../src/core/signing.js';
import type { JsonObject } from '../../src/core/types.js';
import { parseXMatrix } from '../../src/core/x-matrix.js';
import { call } from './client.js';
import { httpsCall } from './federation.js';
import type { TestCa } from './tls.js';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: JsonObject | undefined;
}

export interface StoredInviteRecord {
  medium: string;
  address: string;
  room_id: string;
  sender: string;
  token: string;
  request: JsonObject;
}

export interface FakeIdentityServer {
  /** host:port, what clients give as id_server. */
  name: string;
  accessToken: string;
  pepper: string;
  requests: RecordedRequest[];
  /** medium\0address → mxid */
  bindings: Map<string, string>;
  invites: StoredInviteRecord[];
  /** Public keys /pubkey/isvalid no longer vouches for. */
  revoked: Set<string>;
  /** The server's long-term key (ed25519:0) and the ephemeral one it lists beside it. */
  key: SigningKey;
  ephemeralKey: SigningKey;
  /** Homeservers whose signatures /3pid/unbind accepts: server name → verify key. */
  trustHomeserver(serverName: string, key: SigningKey): void;
  /** A validation session the client completed (requestToken and submitToken, done out of band). */
  validate(medium: string, address: string): string;
  /**
   * Binds `medium`/`address` to `mxid` out of band; with `homeserver` (a
   * base URL), notifies it with /3pid/onbind carrying the signed invites
   * stored for the address, and returns its answer.
   */
  bind(medium: string, address: string, mxid: string, homeserver?: { baseUrl: string; ca?: string }): Promise<{ status: number; body: unknown } | undefined>;
  /** Signs `signed` (mxid, sender, token) with the long-term key, as /3pid/onbind's invites are. */
  sign(object: JsonObject, key?: SigningKey): JsonObject;
  close(): Promise<void>;
}

const ACCESS_TOKEN = 'id-access-token';

export async function startIdentityServer(ca: TestCa, opts: { address?: string } = {}): Promise<FakeIdentityServer> {
  const address = opts.address ?? '127.0.0.1';
  const cert = await ca.issue([address]);
  const sessions = new Map<string, { medium: string; address: string }>();
  const trusted = new Map<string, SigningKey>();
  let nextToken = 0;
  const state = {
    requests: [] as RecordedRequest[],
    bindings: new Map<string, string>(),
    invites: [] as StoredInviteRecord[],
    revoked: new Set<string>(),
  };
  const pepper = 'matrixrocks';
  const key = generateSigningKey('0');
  const ephemeralKey = generateSigningKey('ephemeral');
  let name = '';

  const sign = (object: JsonObject, with_: SigningKey = key): JsonObject => signJson(object, name, with_);
  const send = (res: ServerResponse, status: number, body: JsonObject): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const authorised = (req: IncomingMessage, url: URL): boolean =>
    req.headers.authorization === `Bearer ${ACCESS_TOKEN}` || url.searchParams.get('access_token') === ACCESS_TOKEN;

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const url = new URL(req.url ?? '/', `https://${name}`);
    let body: JsonObject | undefined;
    try {
      body = raw === '' ? undefined : (JSON.parse(raw) as JsonObject);
    } catch {
      return send(res, 400, { errcode: 'M_NOT_JSON', error: 'not JSON' });
    }
    state.requests.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization, body });
    const path = url.pathname;
    if (path === '/_matrix/identity/v2/pubkey/isvalid') {
      const publicKey = url.searchParams.get('public_key') ?? '';
      const known = [key, ephemeralKey].some((k) => encodeBase64(k.publicKey) === publicKey);
      return send(res, 200, { valid: known && !state.revoked.has(publicKey) });
    }
    if (path === '/_matrix/identity/v2/3pid/unbind') return unbind(req, res, body);
    if (!authorised(req, url)) return send(res, 401, { errcode: 'M_UNAUTHORIZED', error: 'Unrecognised access token' });
    if (path === '/_matrix/identity/v2/hash_details') return send(res, 200, { algorithms: ['none', 'sha256'], lookup_pepper: pepper });
    if (path === '/_matrix/identity/v2/lookup') {
      if (body?.['pepper'] !== pepper) return send(res, 400, { errcode: 'M_INVALID_PEPPER', error: 'wrong pepper' });
      const mappings: JsonObject = {};
      for (const entry of (body['addresses'] as string[]) ?? []) {
        for (const [bound, mxid] of state.bindings) {
          const [medium, addr] = bound.split('\0') as [string, string];
          const value = body['algorithm'] === 'sha256' ? hashed(addr, medium, pepper) : `${addr} ${medium}`;
          if (value === entry) mappings[entry] = mxid;
        }
      }
      return send(res, 200, { mappings });
    }
    if (path === '/_matrix/identity/v2/store-invite') {
      const { medium, address: addr, room_id: roomId, sender } = body ?? {};
      if (typeof medium !== 'string' || typeof addr !== 'string' || typeof roomId !== 'string' || typeof sender !== 'string') {
        return send(res, 400, { errcode: 'M_MISSING_PARAMS', error: 'medium, address, room_id and sender are required' });
      }
      const token = `tok${nextToken++}`;
      state.invites.push({ medium, address: addr, room_id: roomId, sender, token, request: body! });
      const validity = `https://${name}/_matrix/identity/v2/pubkey/isvalid`;
      return send(res, 200, {
        token,
        display_name: 'a...@e...',
        public_key: encodeBase64(key.publicKey),
        public_keys: [
          { public_key: encodeBase64(key.publicKey), key_validity_url: validity },
          { public_key: encodeBase64(ephemeralKey.publicKey), key_validity_url: validity },
        ],
      });
    }
    if (path === '/_matrix/identity/v2/3pid/bind') {
      const session = sessions.get(String(body?.['sid']));
      if (!session || typeof body?.['client_secret'] !== 'string') return send(res, 400, { errcode: 'M_NO_VALID_SESSION', error: 'No valid session was found matching that sid and client secret' });
      state.bindings.set(`${session.medium}\0${session.address}`, String(body['mxid']));
      return send(res, 200, sign({ ...session, mxid: String(body['mxid']), not_before: 0, not_after: 4582425849161, ts: 0 }));
    }
    send(res, 404, { errcode: 'M_UNRECOGNIZED', error: `unknown path ${path}` });
  };

  // identity-service-api "Remove an association": signed by the user's homeserver (or with a session).
  const unbind = (req: IncomingMessage, res: ServerResponse, body: JsonObject | undefined): void => {
    let credentials;
    try {
      credentials = parseXMatrix(req.headers.authorization ?? '');
    } catch {
      return send(res, 401, { errcode: 'M_UNAUTHORIZED', error: 'unbind needs an X-Matrix signature' });
    }
    const signer = trusted.get(credentials.origin);
    const signedRequest = { method: 'POST', uri: '/_matrix/identity/v2/3pid/unbind', origin: credentials.origin, destination_is: name, content: body ?? {}, signatures: { [credentials.origin]: { [credentials.key]: credentials.sig } } };
    if (!signer || !verifyJsonSignature(signedRequest, credentials.origin, credentials.key, signer.publicKey)) {
      return send(res, 403, { errcode: 'M_FORBIDDEN', error: 'bad signature' });
    }
    const threepid = (body?.['threepid'] ?? {}) as JsonObject;
    const bound = `${String(threepid['medium'])}\0${String(threepid['address'])}`;
    if (state.bindings.get(bound) !== body?.['mxid']) return send(res, 404, { errcode: 'M_NOT_FOUND', error: 'no such binding' });
    state.bindings.delete(bound);
    send(res, 200, {});
  };

  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  name = `${address}:${(server.address() as AddressInfo).port}`;

  return {
    name,
    accessToken: ACCESS_TOKEN,
    pepper,
    ...state,
    key,
    ephemeralKey,
    trustHomeserver: (serverName, signingKey) => void trusted.set(serverName, signingKey),
    validate: (medium, addr) => {
      const sid = `session${sessions.size}`;
      sessions.set(sid, { medium, address: addr });
      return sid;
    },
    bind: async (medium, addr, mxid, homeserver) => {
      state.bindings.set(`${medium}\0${addr}`, mxid);
      if (!homeserver) return undefined;
      const invites = state.invites
        .filter((i) => i.medium === medium && i.address === addr)
        .map((i) => ({ medium, address: addr, mxid, room_id: i.room_id, sender: i.sender, signed: sign({ mxid, token: i.token }) }));
      const body = sign({ medium, address: addr, mxid, invites });
      const path = '/_matrix/federation/v1/3pid/onbind';
      // Sydent POSTs (the spec says PUT; Synapse serves POST).
      const reply = homeserver.baseUrl.startsWith('https:') ? await httpsCall(homeserver.baseUrl, 'POST', path, { ca: homeserver.ca, body }) : await call(homeserver.baseUrl, 'POST', path, body);
      return { status: reply.status, body: reply.body };
    },
    sign,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The v2 lookup hash: sha256 of "address medium pepper", URL-safe unpadded base64. */
export function hashed(address: string, medium: string, pepper: string): string {
  return encodeBase64Url(createHash('sha256').update(`${address} ${medium} ${pepper}`).digest());
}
