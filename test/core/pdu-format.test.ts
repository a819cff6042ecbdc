// The event format check on received PDUs (server-server-api "Checks
// performed on receipt of a PDU", step 1), per room version.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReceivedPdu, MAX_PDU_BYTES } from '../../src/core/pdu-format.js';
import { roomVersion } from '../../src/core/room-versions.js';
import type { JsonObject } from '../../src/core/types.js';
import { FakeRemoteServer } from '../helpers/remote-events.js';

const remote = new FakeRemoteServer('remote.test');
const v1 = roomVersion('1')!;
const v10 = roomVersion('10')!;
const v12 = roomVersion('12')!;
const ROOM_V10 = '!room:remote.test';

function message(rules = v10, roomId = ROOM_V10, content: JsonObject = { body: 'hi' }): JsonObject {
  return remote.event(rules, roomId, { type: 'm.room.message', sender: '@bob:remote.test', content, prev: [], auth: [] }).pdu as unknown as JsonObject;
}

const reasonOf = (pdu: unknown, rules = v10): string => {
  const parsed = parseReceivedPdu(pdu as JsonObject, rules);
  assert.equal(parsed.ok, false, 'expected the PDU to be refused');
  return (parsed as { reason: string }).reason;
};

describe('parseReceivedPdu', () => {
  test('a well-formed v10 event parses, with its computed event ID and without unsigned', () => {
    const pdu = { ...message(), unsigned: { age: 5 } };
    const parsed = parseReceivedPdu(pdu, v10, { expectedRoomId: ROOM_V10 });
    assert.ok(parsed.ok);
    assert.match(parsed.event.event_id, /^\$[A-Za-z0-9_-]{43}$/);
    assert.equal(parsed.event.room_id, ROOM_V10);
    assert.equal(parsed.event.unsigned, undefined);
  });

  test('a v1 event must carry an event_id of the $opaque:server form', () => {
    const pdu = message(v1);
    assert.ok(parseReceivedPdu(pdu, v1).ok);
    const { event_id: _id, ...withoutId } = pdu;
    assert.match(reasonOf(withoutId, v1), /event_id/);
  });

  test('a v12 create event has no room_id: the room ID derives from its own ID', () => {
    const create = remote.event(v12, '', { type: 'm.room.create', sender: '@bob:remote.test', stateKey: '', content: { room_version: '12' }, prev: [], auth: [] }).pdu;
    const { room_id: _room, ...pdu } = create as unknown as JsonObject;
    const parsed = parseReceivedPdu(pdu, v12);
    assert.ok(parsed.ok);
    assert.equal(parsed.event.room_id, `!${parsed.event.event_id.slice(1)}`);
    assert.match(reasonOf({ ...pdu, room_id: '!abc:remote.test' }, v12), /must not have a 'room_id'/);
  });

  test('a v12 room ID must be the hash form; a v10 one the server form', () => {
    assert.match(reasonOf(message(v12, '!room:remote.test'), v12), /room_id/);
    assert.match(reasonOf(message(v10, `!${'A'.repeat(43)}`)), /room_id/);
  });

  test('the event must belong to the room it was sent for', () => {
    const parsed = parseReceivedPdu(message(), v10, { expectedRoomId: '!other:remote.test' });
    assert.equal(parsed.ok, false);
  });

  test('missing or mistyped fields are named', () => {
    const pdu = message();
    for (const [field, value] of [
      ['sender', 'not-a-user'],
      ['type', 7],
      ['content', 'text'],
      ['depth', -1],
      ['origin_server_ts', 'now'],
      ['prev_events', 'x'],
      ['hashes', {}],
      ['state_key', 5],
    ] as const) {
      assert.match(reasonOf({ ...pdu, [field]: value }), new RegExp(field.split('_')[0]!), field);
    }
  });

  test('too many prev_events or auth_events are refused', () => {
    const ids = Array.from({ length: 21 }, (_, i) => `$${String(i).padStart(43, 'A')}`);
    assert.match(reasonOf({ ...message(), prev_events: ids }), /prev_events.*21/);
    assert.match(reasonOf({ ...message(), auth_events: ids.slice(0, 11) }), /auth_events.*11/);
    assert.ok(parseReceivedPdu({ ...message(), prev_events: ids }, v10, { limitReferences: false }).ok, 'history (backfill) is not held to the caps');
  });

  test('an event over 64 KiB of canonical JSON is refused; type and state_key over 255 bytes too', () => {
    assert.match(reasonOf(message(v10, ROOM_V10, { body: 'x'.repeat(MAX_PDU_BYTES) })), /65536/);
    assert.match(reasonOf({ ...message(), type: 't'.repeat(256) }), /'type' is longer/);
    assert.match(reasonOf({ ...message(), state_key: 's'.repeat(256) }), /'state_key' is longer/);
  });

  test('from v6, floats and out-of-range integers are not canonical JSON', () => {
    // Signed as it would be by a lax server: only the format check is under test.
    assert.match(reasonOf({ ...message(), content: { body: 'x', n: 1.5 } }), /canonical JSON/);
    assert.match(reasonOf({ ...message(), depth: 2 ** 53 }), /depth/);
    assert.ok(parseReceivedPdu(message(v1, '!room:remote.test', { body: 'x', n: 1.5 }), v1).ok, 'allowed in v1');
  });
});
