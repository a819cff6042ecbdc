// The room admin API where rooms span servers. A room blocked by an admin
// (Synapse's block API) keeps this server's users out even when the room
// lives on another server: joining through that server and invites arriving
// from it are refused until the block is lifted. purge_history deletes other
// servers' events by default and keeps this server's users' own, out of the
// timeline until backfill brings the purged history back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startFederation, type Federation } from '../helpers/federation.js';

const enc = encodeURIComponent;

describe('room admin across servers', () => {
  let fed: Federation;
  let hs1: string;
  let hs2: string;
  let alice: TestUser;
  let bob: TestUser;
  let admin1: TestUser;
  let admin2: TestUser;
  const block = (roomId: string, on: boolean) => call(hs2, 'PUT', `/_synapse/admin/v1/rooms/${enc(roomId)}/block`, { block: on }, admin2.accessToken);

  before(async () => {
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test' }] });
    hs1 = fed.servers[0]!.clientUrl;
    hs2 = fed.servers[1]!.clientUrl;
    alice = await registerUser(hs1, 'alice');
    bob = await registerUser(hs2, 'bob');
    admin1 = await registerUser(hs1, 'root');
    await fed.servers[0]!.services.accounts.context.stores.users.setAdmin(admin1.userId, true);
    admin2 = await registerUser(hs2, 'root');
    await fed.servers[1]!.services.accounts.context.stores.users.setAdmin(admin2.userId, true);
  });
  after(async () => fed.close());

  test('an invite from the room’s server is refused while the room is blocked here', async () => {
    const created = await call(hs1, 'POST', '/_matrix/client/v3/createRoom', { name: 'Elsewhere' }, alice.accessToken);
    const roomId = created.body.room_id as string;
    assert.equal((await block(roomId, true)).status, 200);
    const refused = await call(hs1, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await block(roomId, false)).status, 200);
    const invited = await call(hs1, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken);
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
  });

  test('joining a blocked room on another server is refused before asking it', async () => {
    const created = await call(hs1, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }, alice.accessToken);
    const roomId = created.body.room_id as string;
    await block(roomId, true);
    const refused = await call(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=hs1.test`, {}, bob.accessToken);
    assert.deepEqual([refused.status, refused.body.errcode], [403, 'M_FORBIDDEN']);
    await block(roomId, false);
    const joined = await call(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=hs1.test`, {}, bob.accessToken);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
  });

  test('purge_history deletes other servers\' events and keeps (out of the timeline) the local ones', async () => {
    const db = fed.servers[0]!.running.db;
    const created = await call(hs1, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }, alice.accessToken);
    const roomId = created.body.room_id as string;
    assert.equal((await call(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=hs1.test`, {}, bob.accessToken)).status, 200);
    const send = (base: string, user: TestUser, txn: string) =>
      call(base, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${txn}`, { msgtype: 'm.text', body: txn }, user.accessToken);
    const messagesOf = (sender: string) =>
      db.query<{ outlier: number }>("SELECT outlier FROM events WHERE room_id = ? AND sender = ? AND type = 'm.room.message'", [roomId, sender]);
    for (const txn of ['remote-1', 'remote-2']) assert.equal((await send(hs2, bob, txn)).status, 200);
    for (let tries = 0; (await messagesOf(bob.userId)).length < 2; tries++) {
      assert.ok(tries < 300, 'bob\'s messages reach hs1');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await send(hs1, alice, 'local-1')).status, 200);
    const boundary = (await send(hs1, alice, 'boundary')).body.event_id as string;

    const started = await call(hs1, 'POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, { purge_up_to_event_id: boundary }, admin1.accessToken);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    let status: Record<string, unknown>;
    do status = (await call(hs1, 'GET', `/_synapse/admin/v1/purge_history_status/${started.body.purge_id}`, undefined, admin1.accessToken)).body;
    while (status.status === 'active');
    assert.deepEqual(status, { status: 'complete' });
    assert.deepEqual(await messagesOf(bob.userId), [], 'the other server\'s messages are deleted');
    assert.deepEqual((await messagesOf(alice.userId)).map((m) => Number(m.outlier)).sort(), [0, 1], 'local-1 kept as an outlier; the boundary untouched');

    // Paging back backfills the purged history from hs2: bob's messages, and
    // alice's own that hs1 kept only as an outlier, which rejoins the timeline.
    const seen: string[] = [];
    let from: string | undefined;
    for (let page = 0; page < 10 && !seen.includes('remote-1'); page++) {
      const res = await call<{ chunk: Array<{ type: string; content: { body?: string } }>; end?: string }>(
        hs1, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=20${from ? `&from=${enc(from)}` : ''}`, undefined, alice.accessToken,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      seen.push(...res.body.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body!));
      if (res.body.end === undefined) break;
      from = res.body.end;
    }
    assert.deepEqual(seen, ['boundary', 'local-1', 'remote-2', 'remote-1']);
    assert.deepEqual((await messagesOf(alice.userId)).map((m) => Number(m.outlier)), [0, 0]);
  });
});
