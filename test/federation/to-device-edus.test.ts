// Splitting to-device messages for one server into m.direct_to_device EDUs
// small enough for any server's request limit (Synapse's 64 KiB), each with
// its own message_id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_EDU_BYTES, splitIntoEdus } from '../../src/federation/edus/to-device.js';
import type { JsonObject } from '../../src/core/types.js';

test('few small messages go in one EDU', () => {
  const edus = splitIntoEdus('@a:hs1', 'm.room_key_request', { '@b:hs2': { D1: { x: 1 }, D2: { x: 2 } }, '@c:hs2': { '*': { x: 3 } } });
  assert.equal(edus.length, 1);
  assert.deepEqual(edus[0]!['messages'], { '@b:hs2': { D1: { x: 1 }, D2: { x: 2 } }, '@c:hs2': { '*': { x: 3 } } });
  assert.equal(edus[0]!['sender'], '@a:hs1');
  assert.equal(edus[0]!['type'], 'm.room_key_request');
  assert.ok((edus[0]!['message_id'] as string).length <= 32, 'message_id has at most 32 characters');
});

test('many messages are spread over EDUs below the size limit, every message in exactly one', () => {
  const blob = 'x'.repeat(10_000);
  const messages: Record<string, Record<string, JsonObject>> = {};
  for (let u = 0; u < 3; u++) {
    messages[`@user${u}:hs2`] = Object.fromEntries(Array.from({ length: 10 }, (_, d) => [`DEV${d}`, { blob, n: u * 10 + d }]));
  }
  const edus = splitIntoEdus('@a:hs1', 'm.room.encrypted', messages);
  assert.ok(edus.length >= 5, `${edus.length} EDUs for 300 kB`);
  for (const edu of edus) assert.ok(Buffer.byteLength(JSON.stringify(edu)) <= MAX_EDU_BYTES, 'each EDU fits');
  assert.equal(new Set(edus.map((e) => e['message_id'])).size, edus.length, 'each EDU has its own message_id');
  const delivered = edus.flatMap((e) => Object.values(e['messages'] as Record<string, Record<string, JsonObject>>).flatMap((byDevice) => Object.values(byDevice).map((m) => m['n'])));
  assert.deepEqual(delivered.sort((a, b) => Number(a) - Number(b)), Array.from({ length: 30 }, (_, i) => i));
});

test('a message larger than the limit still goes, alone', () => {
  const edus = splitIntoEdus('@a:hs1', 'm.big', { '@b:hs2': { D1: { blob: 'y'.repeat(MAX_EDU_BYTES) }, D2: { small: true } } });
  assert.equal(edus.length, 2);
  assert.deepEqual(Object.keys((edus[0]!['messages'] as JsonObject)['@b:hs2'] as JsonObject), ['D1']);
});
