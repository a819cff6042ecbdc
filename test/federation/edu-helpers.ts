// What the EDU tests share: long-polling /sync until something shows, a
// room shared by users of two servers, and hand-made transactions from one
// server to the other (signed by the sending server's own client).
import assert from 'node:assert/strict';
import { call, type TestUser } from '../helpers/client.js';
import type { FederatedServer } from '../helpers/federation.js';
import type { JsonObject } from '../../src/core/types.js';
import { waitFor } from '../helpers/wait.js';

export { waitFor };

export type Json = Record<string, unknown>;

/** Long-polls /sync (from `since`, when given) until `found` returns something, or fails after `ms`. */
export async function syncUntil<T>(baseUrl: string, user: TestUser, found: (body: Json) => T | undefined, opts: { since?: string; ms?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.ms ?? 15_000);
  let since = opts.since;
  while (Date.now() < deadline) {
    const res = await call<Json>(baseUrl, 'GET', `/_matrix/client/v3/sync?timeout=1000${since ? `&since=${encodeURIComponent(since)}` : ''}`, undefined, user.accessToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const hit = found(res.body);
    if (hit !== undefined) return hit;
    since = res.body['next_batch'] as string;
  }
  throw new Error(`${user.userId} did not see it in /sync within ${opts.ms ?? 15_000} ms`);
}

/** The next_batch of an immediate /sync: a point to sync on from. */
export async function syncToken(baseUrl: string, user: TestUser): Promise<string> {
  const res = await call<Json>(baseUrl, 'GET', '/_matrix/client/v3/sync?timeout=0', undefined, user.accessToken);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body['next_batch'] as string;
}

/** The events of a joined room's ephemeral section. */
export function ephemeral(body: Json, roomId: string): Json[] {
  const room = ((body['rooms'] as Json | undefined)?.['join'] as Json | undefined)?.[roomId] as Json | undefined;
  return ((room?.['ephemeral'] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
}

/**
 * A room made on `owner`'s server with `member` (of the other server)
 * invited and joined, once the owner's server has seen the join.
 */
export async function sharedRoom(
  ownerServer: FederatedServer,
  owner: TestUser,
  memberServer: FederatedServer,
  member: TestUser,
  createBody: Json = {},
): Promise<string> {
  const created = await call<Json>(ownerServer.clientUrl, 'POST', '/_matrix/client/v3/createRoom', createBody, owner.accessToken);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const roomId = created.body['room_id'] as string;
  const room = encodeURIComponent(roomId);
  const invited = await call(ownerServer.clientUrl, 'POST', `/_matrix/client/v3/rooms/${room}/invite`, { user_id: member.userId }, owner.accessToken);
  assert.equal(invited.status, 200, JSON.stringify(invited.body));
  await waitFor('the invite to arrive', async () => (await memberServer.services.roomStore.memberships.getMembership(roomId, member.userId))?.membership === 'invite');
  const joined = await call(memberServer.clientUrl, 'POST', `/_matrix/client/v3/join/${room}`, {}, member.accessToken);
  assert.equal(joined.status, 200, JSON.stringify(joined.body));
  await waitFor('the join to reach the room’s server', async () => (await ownerServer.services.roomStore.memberships.getMembership(roomId, member.userId))?.membership === 'join');
  return roomId;
}

let txnCounter = 0;

/** Sends EDUs from `from` to `to` in a transaction of their own; resolves once `to` has handled them. */
export async function sendEdus(from: FederatedServer, to: FederatedServer, edus: JsonObject[]): Promise<void> {
  await from.services.federation.client.request(to.name, 'PUT', `/_matrix/federation/v1/send/test-${Date.now()}-${++txnCounter}`, {
    body: { origin: from.name, origin_server_ts: Date.now(), pdus: [], edus },
  });
}
