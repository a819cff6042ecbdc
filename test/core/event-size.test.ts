import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventSizeViolation, MAX_EVENT_BYTES, MAX_EVENT_KEY_BYTES } from '../../src/core/event-size.js';

const event = { sender: '@alice:example.org', type: 'm.room.message', room_id: '!room:example.org', event_id: '$abc' };

describe('event size limits (client-server-api "Size limits")', () => {
  test('the whole event: 65,536 bytes of canonical JSON pass, one more does not', () => {
    assert.equal(eventSizeViolation(event, 'x'.repeat(MAX_EVENT_BYTES)), undefined);
    assert.match(eventSizeViolation(event, 'x'.repeat(MAX_EVENT_BYTES + 1))!, /65537 bytes .* at most 65536 bytes/);
  });

  test('the whole event is counted in UTF-8 bytes, not characters', () => {
    const half = 'é'.repeat(MAX_EVENT_BYTES / 2);
    assert.equal(eventSizeViolation(event, half), undefined);
    assert.ok(eventSizeViolation(event, `${half}x`));
  });

  test('sender, room_id, state_key, type and event_id: at most 255 bytes each', () => {
    const atLimit = 'é'.repeat(127) + 'x'; // 255 bytes in 128 characters
    const over = 'é'.repeat(128); // 256 bytes
    assert.equal(Buffer.byteLength(atLimit), MAX_EVENT_KEY_BYTES);
    for (const key of ['sender', 'room_id', 'state_key', 'type', 'event_id'] as const) {
      assert.equal(eventSizeViolation({ ...event, [key]: atLimit }, '{}'), undefined, key);
      assert.equal(eventSizeViolation({ ...event, [key]: over }, '{}'), `The event's ${key} is 256 bytes; it may be at most 255 bytes`);
    }
  });

  test('absent optional keys (no state_key, v12 create without room_id) are fine', () => {
    assert.equal(eventSizeViolation({ sender: '@a:b', type: 'm.room.create' }, '{}'), undefined);
  });
});
