// Two real Axon servers over TLS sharing rooms, as the founding deployment
// would: invite across servers, join (by room ID and by alias), messages both
// ways, leaving and rejecting invites, a member's profile change. Room
// versions 12 and 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { formatXMatrix, requestJson } from '../../src/core/x-matrix.js';
import { signJson } from '../../src/core/signing.js';
import { httpsCall, startFederation, type Federation } from '../helpers/federation.js';
import { waitFor } from '../helpers/wait.js';

type Json = Record<string, unknown>;

/** Long-polls /sync until `found` returns something, or fails after `ms`. */
async function syncUntil<T>(baseUrl: string, user: TestUser, found: (body: Json) => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let since: string | undefined;
  while (Date.now() < deadline) {
    const res = await call<Json>(baseUrl, 'GET', `/_matrix/client/v3/sync?timeout=1000${since ? `&since=${since}` : ''}`, undefined, user.accessToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const hit = found(res.body);
    if (hit !== undefined) return hit;
    since = res.body['next_batch'] as string;
  }
  throw new Error(`${user.userId} did not see it in /sync within ${ms} ms`);
}

function roomSection(body: Json, section: 'join' | 'invite' | 'leave', roomId: string): Json | undefined {
  return ((body['rooms'] as Json | undefined)?.[section] as Json | undefined)?.[roomId] as Json | undefined;
}

function timelineBodies(body: Json, roomId: string): string[] {
  const events = ((roomSection(body, 'join', roomId)?.['timeline'] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
  return events.filter((e) => e['type'] === 'm.room.message').map((e) => (e['content'] as Json)['body'] as string);
}

describe('rooms across two servers', () => {
  let fed: Federation;
  let hs1: string;
  let hs2: string;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', config: { allowGuestAccess: true } }] });
    hs1 = fed.servers[0]!.clientUrl;
    hs2 = fed.servers[1]!.clientUrl;
    alice = await registerUser(hs1, 'alice');
    bob = await registerUser(hs2, 'bob');
  });
  after(async () => fed.close());

  for (const version of ['12', '10']) {
    test(`v${version}: an invite crosses servers, the invitee joins, and messages flow both ways`, async () => {
      const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { room_version: version, name: `Across ${version}` }, alice.accessToken);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const roomId = created.body['room_id'] as string;

      const invited = await call(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken);
      assert.equal(invited.status, 200, JSON.stringify(invited.body));
      const inviteState = await syncUntil(hs2, bob, (body) => (roomSection(body, 'invite', roomId)?.['invite_state'] as Json | undefined)?.['events'] as Json[] | undefined);
      assert.ok(inviteState.some((e) => e['type'] === 'm.room.name' && (e['content'] as Json)['name'] === `Across ${version}`), 'the room name travels with the invite');
      assert.ok(inviteState.some((e) => e['type'] === 'm.room.member' && e['state_key'] === bob.userId && (e['content'] as Json)['membership'] === 'invite'));

      const joined = await call<Json>(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, bob.accessToken);
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      assert.equal(joined.body['room_id'], roomId);

      const members = await call<Json>(hs2, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`, undefined, bob.accessToken);
      assert.deepEqual(Object.keys(members.body['joined'] as Json).sort(), [alice.userId, bob.userId].sort());

      // hs1 learns of Bob's join through the resident side of send_join.
      await syncUntil(hs1, alice, (body) => {
        const events = ((roomSection(body, 'join', roomId)?.['timeline'] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
        return events.find((e) => e['type'] === 'm.room.member' && e['state_key'] === bob.userId && (e['content'] as Json)['membership'] === 'join');
      });

      const sent = await call(hs1, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/a1`, { msgtype: 'm.text', body: 'hello from hs1' }, alice.accessToken);
      assert.equal(sent.status, 200);
      await syncUntil(hs2, bob, (body) => (timelineBodies(body, roomId).includes('hello from hs1') ? true : undefined));

      const reply = await call(hs2, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b1`, { msgtype: 'm.text', body: 'hello from hs2' }, bob.accessToken);
      assert.equal(reply.status, 200);
      await syncUntil(hs1, alice, (body) => (timelineBodies(body, roomId).includes('hello from hs2') ? true : undefined));

      const left = await call(hs2, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`, {}, bob.accessToken);
      assert.equal(left.status, 200, JSON.stringify(left.body));
      await syncUntil(hs1, alice, (body) => {
        const events = ((roomSection(body, 'join', roomId)?.['timeline'] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
        return events.find((e) => e['type'] === 'm.room.member' && e['state_key'] === bob.userId && (e['content'] as Json)['membership'] === 'leave');
      });
    });
  }

  test('history from before the join is backfilled from the other server for /messages', async () => {
    const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }, alice.accessToken);
    const roomId = created.body['room_id'] as string;
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
    for (let i = 0; i < 30; i++) await call(hs1, 'PUT', `${path}/send/m.room.message/h${i}`, { msgtype: 'm.text', body: `old ${i}` }, alice.accessToken);
    const joined = await call(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, bob.accessToken);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const seen: string[] = [];
    let from: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await call<Json>(hs2, 'GET', `${path}/messages?dir=b&limit=10${from ? `&from=${from}` : ''}`, undefined, bob.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      for (const e of res.body['chunk'] as Json[]) if (e['type'] === 'm.room.message') seen.push((e['content'] as Json)['body'] as string);
      from = res.body['end'] as string | undefined;
      if (from === undefined) break;
    }
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => `old ${29 - i}`), 'every old message, newest first');
    // What was backfilled is history, not news: an incremental /sync does not bring it.
    const first = await call<Json>(hs2, 'GET', '/_matrix/client/v3/sync?timeout=0', undefined, bob.accessToken);
    const timeline = timelineBodies(first.body, roomId);
    assert.ok(!timeline.includes('old 0'), 'the earliest message is not pushed to /sync as new');
  });

  test('a public room is joined by its alias from the other server', async () => {
    const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', room_alias_name: 'lobby' }, alice.accessToken);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const joined = await call<Json>(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent('#lobby:hs1.test')}`, {}, bob.accessToken);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(joined.body['room_id'], created.body['room_id']);
  });

  test('an invite can be rejected from the other server', async () => {
    const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', {}, alice.accessToken);
    const roomId = created.body['room_id'] as string;
    await call(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken);
    await syncUntil(hs2, bob, (body) => roomSection(body, 'invite', roomId));
    const rejected = await call(hs2, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`, {}, bob.accessToken);
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    const members = await call<Json>(hs1, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/members`, undefined, alice.accessToken);
    const bobMember = (members.body['chunk'] as Json[]).find((e) => e['state_key'] === bob.userId);
    assert.equal((bobMember?.['content'] as Json | undefined)?.['membership'], 'leave', 'the rejection reached the inviting server');
  });

  test('a knock crosses servers; the knocker is let in and joins', async () => {
    const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { room_version: '12', initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }] }, alice.accessToken);
    const roomId = created.body['room_id'] as string;
    const knocked = await call<Json>(hs2, 'POST', `/_matrix/client/v3/knock/${encodeURIComponent(roomId)}?via=hs1.test`, { reason: 'let me in' }, bob.accessToken);
    assert.equal(knocked.status, 200, JSON.stringify(knocked.body));
    await syncUntil(hs2, bob, (body) => ((body['rooms'] as Json | undefined)?.['knock'] as Json | undefined)?.[roomId]);
    await syncUntil(hs1, alice, (body) => {
      const events = ((roomSection(body, 'join', roomId)?.['timeline'] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
      return events.find((e) => e['state_key'] === bob.userId && (e['content'] as Json)['membership'] === 'knock' && (e['content'] as Json)['reason'] === 'let me in');
    });
    assert.equal((await call(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken)).status, 200);
    await syncUntil(hs2, bob, (body) => roomSection(body, 'invite', roomId));
    const joined = await call(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, bob.accessToken);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
  });

  for (const guestAccess of ['forbidden', 'can_join']) {
    test(`an invited guest joins a room of the other server only if the invite shows it admits guests (${guestAccess})`, async () => {
      const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { initial_state: [{ type: 'm.room.guest_access', state_key: '', content: { guest_access: guestAccess } }] }, alice.accessToken);
      const roomId = created.body['room_id'] as string;
      const registered = await call<Json>(hs2, 'POST', '/_matrix/client/v3/register?kind=guest', {});
      const guest: TestUser = { userId: registered.body['user_id'] as string, accessToken: registered.body['access_token'] as string, deviceId: registered.body['device_id'] as string };
      assert.equal((await call(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: guest.userId }, alice.accessToken)).status, 200);
      const inviteState = await syncUntil(hs2, guest, (body) => (roomSection(body, 'invite', roomId)?.['invite_state'] as Json | undefined)?.['events'] as Json[] | undefined);
      assert.ok(inviteState.some((e) => e['type'] === 'm.room.guest_access' && (e['content'] as Json)['guest_access'] === guestAccess), 'guest access travels with the invite');

      const joined = await call<Json>(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, guest.accessToken);
      const member = async () => (await call<Json>(hs1, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(guest.userId)}`, undefined, alice.accessToken)).body['membership'];
      if (guestAccess === 'can_join') {
        assert.equal(joined.status, 200, JSON.stringify(joined.body));
        assert.equal(await member(), 'join');
      } else {
        assert.deepEqual([joined.status, joined.body['errcode']], [403, 'M_GUEST_ACCESS_FORBIDDEN']);
        assert.equal(await member(), 'invite', 'no join reached the room');
      }
    });
  }

  test('joining a room nobody can help with says why', async () => {
    const res = await call<Json>(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent('!nowhere:hs1.test')}`, {}, bob.accessToken);
    assert.equal(res.status, 404, JSON.stringify(res.body));
    assert.match(String(res.body['error']), /hs1\.test/);
  });
  test('an invite whose event is not canonical JSON for its room version is refused with M_BAD_JSON', async () => {
    // From room version 6 on, floats (and integers beyond ±(2^53 - 1)) are not JSON an event may carry.
    const [server1, server2] = [fed.servers[0]!, fed.servers[1]!];
    const roomId = '!somewhere:hs2.test';
    const pdu = {
      type: 'm.room.member', sender: bob.userId, state_key: alice.userId, room_id: roomId,
      content: { membership: 'invite', weight: 1.5 }, depth: 3, origin_server_ts: Date.now(),
      prev_events: ['$prev'], auth_events: ['$auth'], hashes: { sha256: 'aGFzaA' }, signatures: {},
    };
    const uri = `/_matrix/federation/v2/invite/${encodeURIComponent(roomId)}/${encodeURIComponent('$invite')}`;
    const content = { room_version: '10', event: pdu, invite_room_state: [] };
    // Signed as SyTest's fake servers sign: JSON that is not canonical cannot be encoded strictly.
    const request = requestJson({ method: 'PUT', uri, origin: server2.name, destination: server1.name, content });
    const sig = signJson(request, server2.name, server2.signingKey, { strict: false }).signatures[server2.name]![server2.signingKey.keyId]!;
    const authorization = formatXMatrix({ origin: server2.name, destination: server1.name, key: server2.signingKey.keyId, sig });
    const reply = await httpsCall(server1.baseUrl, 'PUT', uri, { ca: fed.ca!.certPem, headers: { Authorization: authorization }, body: content, servername: server1.name });
    assert.equal(reply.status, 400, JSON.stringify(reply.body));
    assert.equal((reply.body as Json)['errcode'], 'M_BAD_JSON');
  });

  // A profile change re-sends the member's join through the event pipeline, which federates it.
  for (const version of ['12', '10']) {
    test(`v${version}: a remote member's new display name and avatar reach the room's server`, async () => {
      const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', room_version: version }, alice.accessToken);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const roomId = created.body['room_id'] as string;
      const joined = await call(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?server_name=hs1.test`, {}, bob.accessToken);
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      const profile = { displayname: `Bob of hs2 (v${version})`, avatar_url: `mxc://hs2.test/bob${version}` };
      for (const [key, value] of Object.entries(profile)) {
        const put = await call(hs2, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(bob.userId)}/${key}`, { [key]: value }, bob.accessToken);
        assert.equal(put.status, 200, JSON.stringify(put.body));
      }
      const memberPath = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(bob.userId)}`;
      const seen = await waitFor('bob’s new profile on hs1', async () => {
        const member = await call<Json>(hs1, 'GET', memberPath, undefined, alice.accessToken);
        return member.body['avatar_url'] === profile.avatar_url && member.body;
      });
      assert.deepEqual(seen, { membership: 'join', ...profile });
    });
  }
});

describe('rooms across two servers with self-signed certificates and verification off (the founding set-up)', () => {
  test('an invite, a join and messages both ways still work', async () => {
    const fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', engine: 'postgres' }], verifyCertificates: false });
    try {
      const [hs1, hs2] = [fed.servers[0]!.clientUrl, fed.servers[1]!.clientUrl];
      const alice = await registerUser(hs1, 'alice');
      const bob = await registerUser(hs2, 'bob');
      const roomId = (await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { invite: [bob.userId] }, alice.accessToken)).body['room_id'] as string;
      await syncUntil(hs2, bob, (body) => roomSection(body, 'invite', roomId));
      assert.equal((await call(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, bob.accessToken)).status, 200);
      await call(hs2, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/s1`, { msgtype: 'm.text', body: 'self-signed hello' }, bob.accessToken);
      await syncUntil(hs1, alice, (body) => (timelineBodies(body, roomId).includes('self-signed hello') ? true : undefined));
    } finally {
      await fed.close();
    }
  });
});
