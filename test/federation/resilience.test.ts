// Federation when things go wrong: a peer that is down gets what was queued
// for it when it returns (the sender restarting in between); a partition in
// which both sides change power levels and membership converges to one
// state once healed; and forged or unauthorised PDUs never reach clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { signRequest } from '../../src/core/x-matrix.js';
import { computeEventId } from '../../src/core/event-id.js';
import { finaliseEvent, type UnsignedPdu } from '../../src/core/event-signing.js';
import { roomVersion } from '../../src/core/room-versions.js';
import type { JsonObject } from '../../src/core/types.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { httpsCall, startFederation, type Federation, type FederatedServer } from '../helpers/federation.js';

type Json = Record<string, unknown>;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const roomPath = (roomId: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;

async function messages(server: FederatedServer, user: TestUser, roomId: string): Promise<string[]> {
  const res = await call<Json>(server.clientUrl, 'GET', `${roomPath(roomId)}/messages?dir=b&limit=100`, undefined, user.accessToken);
  return ((res.body['chunk'] as Json[] | undefined) ?? []).filter((e) => e['type'] === 'm.room.message').map((e) => (e['content'] as Json)['body'] as string);
}

async function stateIds(server: FederatedServer, user: TestUser, roomId: string): Promise<string[]> {
  const res = await call<Json[]>(server.clientUrl, 'GET', `${roomPath(roomId)}/state`, undefined, user.accessToken);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.map((e) => `${e['type']}|${e['state_key']}|${e['event_id']}`).sort();
}

/** A room of Alice's on hs1 that Bob of hs2 has joined. */
async function sharedRoom(hs1: FederatedServer, hs2: FederatedServer, alice: TestUser, bob: TestUser, version: string, extra: Json = {}): Promise<string> {
  const created = await call<Json>(hs1.clientUrl, 'POST', '/_matrix/client/v3/createRoom', { room_version: version, preset: 'public_chat', ...extra }, alice.accessToken);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const roomId = created.body['room_id'] as string;
  const joined = await call(hs2.clientUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?via=${hs1.name}`, {}, bob.accessToken);
  assert.equal(joined.status, 200, JSON.stringify(joined.body));
  await waitFor('hs1 to see the join', async () => ((await stateIds(hs1, alice, roomId)).some((s) => s.startsWith(`m.room.member|${bob.userId}|`)) ? true : undefined));
  return roomId;
}

describe('federation resilience', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let hs2: FederatedServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', engine: 'postgres' }] });
    [hs1, hs2] = [fed.servers[0]!, fed.servers[1]!];
    alice = await registerUser(hs1.clientUrl, 'alice');
    bob = await registerUser(hs2.clientUrl, 'bob');
  });
  after(async () => fed.close());

  test('a peer that was down gets everything queued for it, in order, though the sender restarted meanwhile', async () => {
    const roomId = await sharedRoom(hs1, hs2, alice, bob, '12');
    await hs2.stop();
    for (let i = 0; i < 5; i++) {
      const res = await call(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/down${i}`, { msgtype: 'm.text', body: `while down ${i}` }, alice.accessToken);
      assert.equal(res.status, 200);
    }
    await waitFor('a failed delivery', async () => {
      const dest = (await hs1.services.roomFederation.sender.destinations()).find((d) => d.destination === 'hs2.test');
      return dest && dest.failures > 0 && dest.queued > 0 ? dest : undefined;
    });
    await hs1.restart();
    await hs2.start();
    // hs2 coming back and talking to hs1 is what tells hs1 to retry now rather than after its back-off.
    const hello = await call(hs2.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/back`, { msgtype: 'm.text', body: 'back' }, bob.accessToken);
    assert.equal(hello.status, 200);
    const seen = await waitFor('the queued messages on hs2', async () => {
      const bodies = await messages(hs2, bob, roomId);
      return bodies.includes('while down 4') ? bodies : undefined;
    });
    const order = seen.filter((b) => b.startsWith('while down')).reverse();
    assert.deepEqual(order, [0, 1, 2, 3, 4].map((i) => `while down ${i}`));
  });

  for (const version of ['12', '10']) {
    test(`v${version}: a partition in which both sides change power levels and membership converges once healed`, async () => {
      const carol = await registerUser(hs2.clientUrl, `carol${version}`);
      const roomId = await sharedRoom(hs1, hs2, alice, bob, version);
      // Bob gets power to change power levels, below Alice's 100 so she can still demote him (before v12, she is not above the rules).
      const pl = await call<Json>(hs1.clientUrl, 'GET', `${roomPath(roomId)}/state/m.room.power_levels/`, undefined, alice.accessToken);
      const raised: Json = {
        ...pl.body,
        users: { ...(pl.body['users'] as Json), [bob.userId]: 99 },
        events: { ...(pl.body['events'] as Json), 'm.room.power_levels': 99 },
      };
      assert.equal((await call(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/state/m.room.power_levels/`, raised, alice.accessToken)).status, 200);
      await waitFor('hs2 to see Bob raised', async () => {
        const seen = await call<Json>(hs2.clientUrl, 'GET', `${roomPath(roomId)}/state/m.room.power_levels/`, undefined, bob.accessToken);
        return (seen.body['users'] as Json | undefined)?.[bob.userId] === 99 ? true : undefined;
      });

      const heal = await partition(hs1, hs2);
      // hs1: Alice takes Bob's power away and sets a topic.
      const demoted = { ...raised, users: { ...(raised['users'] as Json), [bob.userId]: 0 } };
      assert.equal((await call(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/state/m.room.power_levels/`, demoted, alice.accessToken)).status, 200);
      assert.equal((await call(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/state/m.room.topic/`, { topic: 'from hs1' }, alice.accessToken)).status, 200);
      // hs2: Bob, still a moderator as far as hs2 knows, raises the topic's level and lets Carol in.
      const bobsLevels = { ...raised, events: { ...(raised['events'] as Json), 'm.room.topic': 99 } };
      assert.equal((await call(hs2.clientUrl, 'PUT', `${roomPath(roomId)}/state/m.room.power_levels/`, bobsLevels, bob.accessToken)).status, 200);
      assert.equal((await call(hs2.clientUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, carol.accessToken)).status, 200, 'Carol joins locally: Bob of her server is in the room');

      await heal();
      // Each side builds on what it has, merging the fork for the other.
      assert.equal((await call(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/merge1`, { msgtype: 'm.text', body: 'merge from hs1' }, alice.accessToken)).status, 200);
      assert.equal((await call(hs2.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/merge2`, { msgtype: 'm.text', body: 'merge from hs2' }, carol.accessToken)).status, 200);
      await waitFor('both merges on both sides', async () => {
        const [a, b] = [await messages(hs1, alice, roomId), await messages(hs2, bob, roomId)];
        return ['merge from hs1', 'merge from hs2'].every((m) => a.includes(m) && b.includes(m)) ? true : undefined;
      });
      // One more round so each side's last event names both tips.
      await call(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/final1`, { msgtype: 'm.text', body: 'final' }, alice.accessToken);
      await waitFor('the same state on both servers', async () => {
        const [a, b] = [await stateIds(hs1, alice, roomId), await stateIds(hs2, bob, roomId)];
        return JSON.stringify(a) === JSON.stringify(b) ? a : undefined;
      });
    });
  }

  test('forged, tampered, misdirected or unauthorised PDUs never reach clients', async () => {
    const roomId = await sharedRoom(hs1, hs2, alice, bob, '12');
    const rules = roomVersion('12')!;
    const hs1Tip = (await hs1.services.roomStore.events.getForwardExtremities(roomId));
    const room = (await hs1.services.pipeline.room(roomId))!;
    const authIds = [room.stateEvent('m.room.power_levels')!.event_id];
    const pdu = (sender: string, body: string): JsonObject => {
      const member = room.stateEvent('m.room.member', sender);
      const unsigned: UnsignedPdu = {
        type: 'm.room.message',
        sender,
        room_id: roomId,
        content: { msgtype: 'm.text', body },
        origin_server_ts: Date.now(),
        depth: 100,
        prev_events: hs1Tip,
        auth_events: member ? [...authIds, member.event_id] : authIds,
      };
      return finaliseEvent(unsigned, 'hs2.test', hs2.signingKey, rules) as unknown as JsonObject;
    };
    const send = (pdus: JsonObject[], destination = 'hs1.test', txnId = `forged-${Math.random()}`) => {
      const uri = `/_matrix/federation/v1/send/${txnId}`;
      const content = { origin: 'hs2.test', origin_server_ts: Date.now(), pdus };
      const auth = signRequest({ method: 'PUT', uri, origin: 'hs2.test', destination, content }, hs2.signingKey);
      return httpsCall(hs1.baseUrl, 'PUT', uri, { ca: fed.ca!.certPem, headers: { Authorization: auth }, body: content, servername: 'hs1.test' });
    };

    const badSignature = { ...pdu(bob.userId, 'bad signature'), signatures: { 'hs2.test': { [hs2.signingKey.keyId]: 'A'.repeat(86) } } };
    const tampered = { ...pdu(bob.userId, 'original'), content: { msgtype: 'm.text', body: 'tampered' } };
    const unauthorised = pdu('@mallory:hs2.test', 'never joined');
    const reply = await send([badSignature, tampered, unauthorised]);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const results = reply.body['pdus'] as Json;
    assert.match(String((results[computeEventId(badSignature, rules)] as Json)['error']), /signature/);

    const misdirected = await send([pdu(bob.userId, 'misdirected')], 'hs3.test');
    assert.equal(misdirected.status, 401);
    assert.equal((misdirected.body as Json)['errcode'], 'M_UNAUTHORIZED');

    const seen = await messages(hs1, alice, roomId);
    for (const body of ['bad signature', 'tampered', 'original', 'never joined', 'misdirected']) assert.ok(!seen.includes(body), `${body} reached a client`);
    const stored = await hs1.services.roomStore.events.getEvent(computeEventId(unauthorised, rules));
    assert.ok(stored?.rejectedReason, 'the unauthorised event is kept as rejected');
  });

  test("a remote redaction applies to its own server's events, not to others' (v3+ \"Handling redactions\")", async () => {
    const roomId = await sharedRoom(hs1, hs2, alice, bob, '10');
    const aliceSaid = await call<Json>(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/r1`, { msgtype: 'm.text', body: 'alice keeps this' }, alice.accessToken);
    const bobSaid = await call<Json>(hs2.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/r2`, { msgtype: 'm.text', body: 'bob takes this back' }, bob.accessToken);
    await waitFor('both messages on hs1', async () => ((await messages(hs1, alice, roomId)).includes('bob takes this back') ? true : undefined));
    // Bob redacts his own message through his server; a forged redaction of Alice's comes straight from "hs2".
    assert.equal((await call(hs2.clientUrl, 'PUT', `${roomPath(roomId)}/redact/${encodeURIComponent(bobSaid.body['event_id'] as string)}/x1`, {}, bob.accessToken)).status, 200);
    const room = (await hs1.services.pipeline.room(roomId))!;
    const forged = finaliseEvent(
      {
        type: 'm.room.redaction',
        sender: bob.userId,
        room_id: roomId,
        redacts: aliceSaid.body['event_id'] as string,
        content: {},
        origin_server_ts: Date.now(),
        depth: 1000,
        prev_events: await hs1.services.roomStore.events.getForwardExtremities(roomId),
        auth_events: [room.stateEvent('m.room.create')!.event_id, room.stateEvent('m.room.power_levels')!.event_id, room.stateEvent('m.room.member', bob.userId)!.event_id],
      },
      'hs2.test',
      hs2.signingKey,
      roomVersion('10')!,
    ) as unknown as JsonObject;
    const uri = '/_matrix/federation/v1/send/redact-forged';
    const content = { origin: 'hs2.test', origin_server_ts: Date.now(), pdus: [forged] };
    const auth = signRequest({ method: 'PUT', uri, origin: 'hs2.test', destination: 'hs1.test', content }, hs2.signingKey);
    const reply = await httpsCall(hs1.baseUrl, 'PUT', uri, { ca: fed.ca!.certPem, headers: { Authorization: auth }, body: content, servername: 'hs1.test' });
    assert.equal(reply.status, 200);
    await waitFor("Bob's redaction applied on hs1", async () => (!(await messages(hs1, alice, roomId)).includes('bob takes this back') ? true : undefined));
    const event = await call<Json>(hs1.clientUrl, 'GET', `${roomPath(roomId)}/event/${encodeURIComponent(aliceSaid.body['event_id'] as string)}`, undefined, alice.accessToken);
    assert.equal((event.body['content'] as Json)['body'], 'alice keeps this', 'a redaction from another server without the redact level is not applied');
  });
});

/**
 * Points each server's federation_hosts entry for the other at a closed
 * port and restarts both; the returned function heals: hosts restored, both
 * restarted, and each told the other is up (as a message from it would).
 */
async function partition(a: FederatedServer, b: FederatedServer): Promise<() => Promise<void>> {
  const saved = [a.config.federationHosts, b.config.federationHosts];
  a.config.federationHosts = { ...a.config.federationHosts, [b.name]: { host: '127.0.0.9', port: 9 } };
  b.config.federationHosts = { ...b.config.federationHosts, [a.name]: { host: '127.0.0.9', port: 9 } };
  await Promise.all([a.restart(), b.restart()]);
  return async () => {
    [a.config.federationHosts, b.config.federationHosts] = saved;
    await Promise.all([a.restart(), b.restart()]);
    await a.services.roomFederation.sender.peerIsUp(b.name);
    await b.services.roomFederation.sender.peerIsUp(a.name);
  };
}
