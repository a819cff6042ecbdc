// A small client for the visibility tests: JSON calls that assert success
// where a test only needs the body, and the few requests every read-path test
// repeats (create a room, send, /sync, sliding sync).
import assert from 'node:assert/strict';
import { call, type Reply, type TestUser } from '../helpers/client.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SLIDING_SYNC = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';
let txn = 0;

export function readPathClient(baseUrl: string) {
  const client = {
    /** Any client-server call; `version` picks /v3 or /v1 (relations, threads). */
    call: (method: string, path: string, body: unknown, user: TestUser, version: 'v3' | 'v1' = 'v3'): Promise<Reply<Json>> =>
      call<Json>(baseUrl, method, `/_matrix/client/${version}${path}`, body, user.accessToken),
    /** The body of a call that must succeed. */
    ok: async (method: string, path: string, body: unknown, user: TestUser, version: 'v3' | 'v1' = 'v3'): Promise<Json> => {
      const res = await client.call(method, path, body, user, version);
      assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    /** A public_chat room unless `body` says otherwise. */
    createRoom: async (user: TestUser, body: Json = {}): Promise<string> => (await client.ok('POST', '/createRoom', { preset: 'public_chat', ...body }, user)).room_id as string,
    send: async (user: TestUser, roomId: string, content: Json, type = 'm.room.message'): Promise<string> =>
      (await client.ok('PUT', `/rooms/${encodeURIComponent(roomId)}/send/${type}/vis${++txn}`, content, user)).event_id as string,
    sync: (user: TestUser, query: Record<string, string> = {}): Promise<Json> => client.ok('GET', `/sync?${new URLSearchParams(query)}`, undefined, user),
    slidingSync: async (user: TestUser, body: Json): Promise<Json> => {
      const res = await call<Json>(baseUrl, 'POST', SLIDING_SYNC, body, user.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
  };
  return client;
}
