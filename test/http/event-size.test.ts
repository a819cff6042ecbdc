// Events over the spec's size limits (client-server-api "Size limits": 65,536
// bytes for the signed event as canonical JSON, 255 bytes for sender,
// room_id, state_key, type and event_id) are refused with 413 M_TOO_LARGE by
// every endpoint that creates events, and nothing is stored.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type Reply, type TestUser } from '../helpers/client.js';
import { describeEngineAndRoomVersions } from '../helpers/room-versions.js';
import { enc, V3 } from './user-data-helpers.js';

const KIB_70 = 'x'.repeat(70 * 1024);

function assertTooLarge(reply: Reply): void {
  assert.deepEqual([reply.status, reply.body.errcode], [413, 'M_TOO_LARGE'], JSON.stringify(reply.body).slice(0, 300));
}

describeEngineAndRoomVersions('oversized events are refused before they are stored', (server, version) => {
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  const api = (method: string, path: string, body?: unknown, user = alice) => call(server().baseUrl, method, path, body, user.accessToken);
  const room = () => `${V3}/rooms/${enc(roomId)}`;
  const bodies = async () => {
    const page = await api('GET', `${room()}/messages?dir=b&limit=100`);
    return (page.body.chunk as Array<{ content: { body?: string } }>).map((e) => e.content.body);
  };

  before(async () => {
    alice = await registerUser(server().baseUrl, `alice${version}`);
    bob = await registerUser(server().baseUrl, `bob${version}`);
    const created = await api('POST', `${V3}/createRoom`, { preset: 'public_chat', room_version: version });
    roomId = created.body.room_id as string;
  });

  test('a 70 KiB message: 413, not in the timeline, and its transaction ID stays free', async () => {
    assertTooLarge(await api('PUT', `${room()}/send/m.room.message/big`, { msgtype: 'm.text', body: KIB_70 }));
    assert.ok(!(await bodies()).includes(KIB_70));
    const retry = await api('PUT', `${room()}/send/m.room.message/big`, { msgtype: 'm.text', body: 'smaller' });
    assert.equal(retry.status, 200);
    assert.ok((await bodies()).includes('smaller'));
  });

  test('content the room version cannot encode (a float, an integer past 2^53): 400 M_BAD_JSON, nothing stored', async () => {
    for (const [txn, value] of [['float', 1.5], ['huge', 2 ** 53]] as const) {
      const res = await api('PUT', `${room()}/send/org.example.number/${txn}`, { value });
      assert.deepEqual([res.status, (res.body as Record<string, unknown>).errcode], [400, 'M_BAD_JSON'], JSON.stringify(res.body));
    }
  });

  test('a 60 KiB message is within the limit', async () => {
    const body = 'y'.repeat(60 * 1024);
    assert.equal((await api('PUT', `${room()}/send/m.room.message/fits`, { msgtype: 'm.text', body })).status, 200);
    assert.ok((await bodies()).includes(body));
  });

  test('an event type over 255 bytes: 413', async () => {
    assertTooLarge(await api('PUT', `${room()}/send/${'t'.repeat(256)}/longtype`, {}));
  });

  test('state: 70 KiB content or a state key over 255 bytes: 413, state unchanged', async () => {
    assertTooLarge(await api('PUT', `${room()}/state/m.room.topic`, { topic: KIB_70 }));
    assert.equal((await api('GET', `${room()}/state/m.room.topic`)).status, 404);
    const longKey = 'é'.repeat(128); // 256 bytes
    assertTooLarge(await api('PUT', `${room()}/state/org.example.thing/${enc(longKey)}`, {}));
    assert.equal((await api('GET', `${room()}/state/org.example.thing/${enc(longKey)}`)).status, 404);
  });

  test('a redaction with a 70 KiB reason: 413, the event keeps its content', async () => {
    const sent = await api('PUT', `${room()}/send/m.room.message/target`, { msgtype: 'm.text', body: 'keep me' });
    const eventId = sent.body.event_id as string;
    assertTooLarge(await api('PUT', `${room()}/redact/${enc(eventId)}/r1`, { reason: KIB_70 }));
    const event = await api('GET', `${room()}/event/${enc(eventId)}`);
    assert.equal((event.body.content as { body: string }).body, 'keep me');
    assert.equal((event.body.unsigned as { redacted_because?: unknown } | undefined)?.redacted_because, undefined);
  });

  test('membership with a 70 KiB reason (join, invite, kick, ban): 413, membership unchanged', async () => {
    assertTooLarge(await api('POST', `${room()}/join`, { reason: KIB_70 }, bob));
    assertTooLarge(await api('POST', `${room()}/invite`, { user_id: bob.userId, reason: KIB_70 }));
    assertTooLarge(await api('POST', `${room()}/ban`, { user_id: bob.userId, reason: KIB_70 }));
    assert.equal((await api('GET', `${room()}/state/m.room.member/${enc(bob.userId)}`)).status, 404);
    assert.equal((await api('POST', `${room()}/join`, {}, bob)).status, 200);
    assertTooLarge(await api('POST', `${room()}/kick`, { user_id: bob.userId, reason: KIB_70 }));
    assertTooLarge(await api('POST', `${room()}/leave`, { reason: KIB_70 }, bob));
    const member = await api('GET', `${room()}/state/m.room.member/${enc(bob.userId)}`);
    assert.equal(member.body.membership, 'join');
  });

  test('createRoom with a 70 KiB initial state event: 413, no room created', async () => {
    const before = (await api('GET', `${V3}/joined_rooms`)).body.joined_rooms;
    assertTooLarge(await api('POST', `${V3}/createRoom`, { room_version: version, initial_state: [{ type: 'org.example.big', state_key: '', content: { data: KIB_70 } }] }));
    assertTooLarge(await api('POST', `${V3}/createRoom`, { room_version: version, topic: KIB_70 }));
    assert.deepEqual((await api('GET', `${V3}/joined_rooms`)).body.joined_rooms, before);
  });
});
