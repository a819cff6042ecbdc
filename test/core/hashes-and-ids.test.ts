import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeBase64 } from '../../src/core/base64.js';
import { checkContentHash, computeContentHash, computeReferenceHash } from '../../src/core/hashes.js';
import { computeEventId, generateServerEventId, roomIdFromCreateEvent } from '../../src/core/event-id.js';
import { finaliseEvent, verifyEventSignature, type UnsignedPdu } from '../../src/core/event-signing.js';
import { redactEvent } from '../../src/core/redaction.js';
import { roomVersion, type RoomVersionRules } from '../../src/core/room-versions.js';
import { signingKeyFromSeed, generateSigningKey } from '../../src/core/signing.js';
import { isValidEventId, isValidRoomId } from '../../src/core/identifiers.js';
import type { PDU } from '../../src/core/types.js';

const KEY = signingKeyFromSeed('1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'));

function rules(id: string): RoomVersionRules {
  const found = roomVersion(id);
  assert.ok(found);
  return found;
}

// The spec's examples are not full PDUs (the second has no depth), hence the casts.
const MINIMAL_EVENT = {
  room_id: '!x:domain',
  sender: '@a:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  signatures: {},
  hashes: {},
  type: 'X',
  content: {},
  prev_events: [],
  auth_events: [],
  depth: 3,
  unsigned: { age_ts: 1000000 },
} as unknown as UnsignedPdu;

const REDACTABLE_EVENT = {
  content: { body: 'Here is the message content' },
  event_id: '$0:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  signatures: {},
  unsigned: { age_ts: 1000000 },
} as unknown as UnsignedPdu;

describe('event signing: the test vectors of appendices.md', () => {
  test('a minimally-sized event', () => {
    assert.deepEqual(finaliseEvent(MINIMAL_EVENT, 'domain', KEY, rules('1')), {
      auth_events: [],
      content: {},
      depth: 3,
      hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' },
      origin: 'domain',
      origin_server_ts: 1000000,
      prev_events: [],
      room_id: '!x:domain',
      sender: '@a:domain',
      signatures: {
        domain: {
          'ed25519:1': 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
        },
      },
      type: 'X',
      unsigned: { age_ts: 1000000 },
    });
  });

  test('an event containing redactable content', () => {
    assert.deepEqual(finaliseEvent(REDACTABLE_EVENT, 'domain', KEY, rules('1')), {
      content: { body: 'Here is the message content' },
      event_id: '$0:domain',
      hashes: { sha256: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g' },
      origin: 'domain',
      origin_server_ts: 1000000,
      type: 'm.room.message',
      room_id: '!r:domain',
      sender: '@u:domain',
      signatures: {
        domain: {
          'ed25519:1': 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
        },
      },
      unsigned: { age_ts: 1000000 },
    });
  });

  test('content hashes match the vectors on their own', () => {
    assert.equal(computeContentHash(MINIMAL_EVENT as unknown as PDU), '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
    assert.equal(computeContentHash(REDACTABLE_EVENT as unknown as PDU), 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g');
  });
});

describe('event signatures and content hashes on received events', () => {
  const signed = finaliseEvent(REDACTABLE_EVENT, 'domain', KEY, rules('1'));

  test('the signature verifies on the full and on the redacted copy', () => {
    assert.ok(verifyEventSignature(signed, 'domain', 'ed25519:1', KEY.publicKey, rules('1')));
    assert.ok(verifyEventSignature(redactEvent(signed, rules('1')), 'domain', 'ed25519:1', KEY.publicKey, rules('1')));
  });

  test('changed content keeps the signature (it covers the redacted form) but fails the content hash', () => {
    const tampered = { ...signed, content: { body: 'changed' } };
    assert.ok(checkContentHash(signed));
    assert.ok(verifyEventSignature(tampered, 'domain', 'ed25519:1', KEY.publicKey, rules('1')));
    assert.ok(!checkContentHash(tampered));
  });

  test('a changed essential key, a wrong key or the wrong room version fails the signature', () => {
    assert.ok(!verifyEventSignature({ ...signed, sender: '@v:domain' }, 'domain', 'ed25519:1', KEY.publicKey, rules('1')));
    assert.ok(!verifyEventSignature(signed, 'domain', 'ed25519:1', generateSigningKey().publicKey, rules('1')));
    // v11 redaction drops `origin`, so the bytes differ from what was signed.
    assert.ok(!verifyEventSignature(signed, 'domain', 'ed25519:1', KEY.publicKey, rules('11')));
  });

  test('checkContentHash says false for missing or malformed hashes', () => {
    assert.ok(!checkContentHash({ ...signed, hashes: undefined } as unknown as PDU));
    assert.ok(!checkContentHash({ ...signed, hashes: { sha256: '***' } }));
    assert.ok(!checkContentHash({ ...signed, hashes: [] } as unknown as PDU));
    assert.ok(!checkContentHash({ ...signed, hashes: { sha256: 5 } } as unknown as PDU));
  });

  test('existing signatures from other servers are kept', () => {
    const other = generateSigningKey('o');
    const first = finaliseEvent(REDACTABLE_EVENT, 'other.example', other, rules('1'));
    const both = finaliseEvent(first, 'domain', KEY, rules('1'));
    assert.deepEqual(Object.keys(both.signatures).sort(), ['domain', 'other.example']);
    assert.ok(verifyEventSignature(both, 'other.example', 'ed25519:o', other.publicKey, rules('1')));
    assert.ok(verifyEventSignature(both, 'domain', 'ed25519:1', KEY.publicKey, rules('1')));
  });
});

describe('canonical JSON strictness follows the room version', () => {
  const floaty: UnsignedPdu = {
    room_id: '!r:domain',
    sender: '@u:domain',
    type: 'm.room.message',
    content: { body: 'x', weight: 1.5 },
    origin_server_ts: 1,
    depth: 1,
    prev_events: [],
    auth_events: [],
  };

  test('a float is accepted in room version 5 and refused in 6', () => {
    const v5 = finaliseEvent(floaty, 'domain', KEY, rules('5'));
    assert.ok(checkContentHash(v5, rules('5')));
    assert.throws(() => finaliseEvent(floaty, 'domain', KEY, rules('6')), /content\.weight.*not an integer/);
    assert.ok(!checkContentHash(v5, rules('6')));
  });
});

describe('reference hashes and event IDs', () => {
  // A message event whose reference hash we compute independently: the
  // redacted form of an m.room.message has empty content and (v3–v10) keeps
  // `origin`; signatures and unsigned are left out.
  function messageAt(ts: number): PDU {
    return {
      room_id: '!r:domain',
      sender: '@u:domain',
      origin: 'domain',
      type: 'm.room.message',
      content: { body: 'hello' },
      origin_server_ts: ts,
      depth: 7,
      prev_events: ['$p'],
      auth_events: ['$a'],
      hashes: { sha256: 'h' },
      signatures: { domain: { 'ed25519:1': 's' } },
      unsigned: { age_ts: ts },
    };
  }
  const expectedHash = (ts: number): Buffer =>
    createHash('sha256')
      .update(
        `{"auth_events":["$a"],"content":{},"depth":7,"hashes":{"sha256":"h"},"origin":"domain","origin_server_ts":${ts},"prev_events":["$p"],"room_id":"!r:domain","sender":"@u:domain","type":"m.room.message"}`,
      )
      .digest();
  // Pick a timestamp whose hash has a `+` or `/` in standard Base64, so that
  // the v3 and v4 encodings visibly differ.
  let ts = 0;
  while (!/[+/]/.test(expectedHash(ts).toString('base64').replace(/=+$/, ''))) ts++;
  const pdu = messageAt(ts);
  const standard = expectedHash(ts).toString('base64').replace(/=+$/, '');

  test('the reference hash covers the redacted event without signatures and unsigned', () => {
    assert.deepEqual(computeReferenceHash(pdu, rules('3')), expectedHash(ts));
  });

  test('v3 event IDs are $ + standard unpadded Base64', () => {
    const id = computeEventId(pdu, rules('3'));
    assert.equal(id, `$${standard}`);
    assert.ok(isValidEventId(id, rules('3')));
  });

  test('v4+ event IDs are $ + URL-safe unpadded Base64', () => {
    const id = computeEventId(pdu, rules('4'));
    assert.equal(id, `$${standard.replace(/\+/g, '-').replace(/\//g, '_')}`);
    assert.notEqual(id, computeEventId(pdu, rules('3')));
    assert.ok(isValidEventId(id, rules('4')));
  });

  test('the ID survives redaction and ignores unsigned and signatures, but not hashes', () => {
    const id = computeEventId(pdu, rules('10'));
    assert.equal(computeEventId(redactEvent(pdu, rules('10')), rules('10')), id);
    assert.equal(computeEventId({ ...pdu, unsigned: {}, signatures: {} }, rules('10')), id);
    assert.notEqual(computeEventId({ ...pdu, hashes: { sha256: 'other' } }, rules('10')), id);
  });

  test('v11 redaction rules change the ID (origin is no longer covered)', () => {
    assert.notEqual(computeEventId({ ...pdu, origin: 'elsewhere' }, rules('10')), computeEventId(pdu, rules('10')));
    assert.equal(computeEventId({ ...pdu, origin: 'elsewhere' }, rules('11')), computeEventId(pdu, rules('11')));
  });

  test('a carried event_id is ignored from v3 and used in v1/v2', () => {
    const carrying = { ...pdu, event_id: '$mine:domain' };
    assert.equal(computeEventId(carrying, rules('1')), '$mine:domain');
    assert.equal(computeEventId(carrying, rules('2')), '$mine:domain');
    assert.throws(() => computeEventId(pdu, rules('2')), /must carry its event_id/);
  });

  test('finaliseEvent refuses an event_id from v3 on', () => {
    assert.throws(() => finaliseEvent({ ...REDACTABLE_EVENT }, 'domain', KEY, rules('3')), /must not carry an event_id/);
  });
});

describe('v12 room IDs', () => {
  const create: UnsignedPdu = {
    sender: '@alice:domain',
    type: 'm.room.create',
    state_key: '',
    content: { room_version: '12' },
    origin_server_ts: 1,
    depth: 1,
    prev_events: [],
    auth_events: [],
  };
  const finalised = finaliseEvent(create, 'domain', KEY, rules('12'));

  test('are ! + the create event ID', () => {
    const eventId = computeEventId(finalised, rules('12'));
    const roomId = roomIdFromCreateEvent(finalised, rules('12'));
    assert.equal(roomId, `!${eventId.slice(1)}`);
    assert.ok(isValidRoomId(roomId, rules('12')));
    assert.ok(verifyEventSignature(finalised, 'domain', 'ed25519:1', KEY.publicKey, rules('12')));
  });

  test('depend on the whole create content (kept by v11+ redaction)', () => {
    const other = finaliseEvent({ ...create, content: { room_version: '12', extra: true } }, 'domain', KEY, rules('12'));
    assert.notEqual(roomIdFromCreateEvent(other, rules('12')), roomIdFromCreateEvent(finalised, rules('12')));
  });

  test('only exist in versions that define them, and only for create events', () => {
    assert.throws(() => roomIdFromCreateEvent(finalised, rules('11')), /does not derive room IDs/);
    assert.throws(() => roomIdFromCreateEvent({ ...finalised, type: 'm.room.message' }, rules('12')), /only an m\.room\.create/);
  });
});

describe('server-made event IDs for v1/v2', () => {
  test('are $opaque:server from the injected random source', () => {
    const id = generateServerEventId('example.org', () => 'AbCdEf123');
    assert.equal(id, '$AbCdEf123:example.org');
    assert.ok(isValidEventId(id, rules('1')));
  });

  test('refuse an opaque part that would break the grammar', () => {
    assert.throws(() => generateServerEventId('example.org', () => 'a:b'), /contain no ":"/);
    assert.throws(() => generateServerEventId('example.org', () => ''), /non-empty/);
  });
});
