import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { redactEvent } from '../../src/core/redaction.js';
import { roomVersion, type RoomVersionRules } from '../../src/core/room-versions.js';
import type { JsonObject, PDU } from '../../src/core/types.js';

function rules(id: string): RoomVersionRules {
  const found = roomVersion(id);
  assert.ok(found, `room version ${id} exists`);
  return found;
}

function event(type: string, content: JsonObject, extra: Partial<PDU> = {}): PDU {
  return {
    event_id: '$abc:example.org',
    room_id: '!room:example.org',
    sender: '@alice:example.org',
    type,
    state_key: '',
    content,
    origin_server_ts: 1000,
    depth: 4,
    prev_events: ['$prev'],
    auth_events: ['$auth'],
    hashes: { sha256: 'hash' },
    signatures: { 'example.org': { 'ed25519:1': 'sig' } },
    unsigned: { age_ts: 1000, redacted_because: {} },
    origin: 'example.org',
    membership: 'join',
    prev_state: [],
    redacts: '$target',
    extra_top_level: 'dropped',
    ...extra,
  };
}

const contentAfter = (id: string, type: string, content: JsonObject): JsonObject =>
  redactEvent(event(type, content), rules(id)).content;

const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

describe('redaction: top-level keys', () => {
  test('v1–v10 keep the historical origin, membership and prev_state', () => {
    for (const id of ALL_VERSIONS.slice(0, 10)) {
      assert.deepEqual(Object.keys(redactEvent(event('m.room.message', { body: 'x' }), rules(id))).sort(), [
        'auth_events',
        'content',
        'depth',
        'event_id',
        'hashes',
        'membership',
        'origin',
        'origin_server_ts',
        'prev_events',
        'prev_state',
        'room_id',
        'sender',
        'signatures',
        'state_key',
        'type',
      ]);
    }
  });

  test('v11 and v12 drop origin, membership and prev_state', () => {
    for (const id of ['11', '12']) {
      assert.deepEqual(Object.keys(redactEvent(event('m.room.message', { body: 'x' }), rules(id))).sort(), [
        'auth_events',
        'content',
        'depth',
        'event_id',
        'hashes',
        'origin_server_ts',
        'prev_events',
        'room_id',
        'sender',
        'signatures',
        'state_key',
        'type',
      ]);
    }
  });

  test('unsigned, top-level redacts and unknown keys never survive; kept values are unchanged', () => {
    const original = event('m.room.message', { body: 'x' });
    const redacted = redactEvent(original, rules('1'));
    assert.equal(redacted.unsigned, undefined);
    assert.equal(redacted.redacts, undefined);
    assert.equal(redacted['extra_top_level'], undefined);
    assert.deepEqual(redacted.signatures, original.signatures);
    assert.deepEqual(redacted.prev_events, original.prev_events);
  });

  test('does not modify its input', () => {
    const original = event('m.room.member', { membership: 'join', displayname: 'A' });
    const snapshot = structuredClone(original);
    redactEvent(original, rules('11'));
    assert.deepEqual(original, snapshot);
  });

  test('content that is missing or not an object becomes {}', () => {
    const noContent = { ...event('m.room.member', {}), content: undefined } as unknown as PDU;
    assert.deepEqual(redactEvent(noContent, rules('1')).content, {});
    const listContent = { ...event('m.room.member', {}), content: ['membership'] } as unknown as PDU;
    assert.deepEqual(redactEvent(listContent, rules('1')).content, {});
  });
});

describe('redaction: content per event type and room version', () => {
  test('ordinary events lose all content in every version', () => {
    for (const id of ALL_VERSIONS) assert.deepEqual(contentAfter(id, 'm.room.message', { body: 'hi', msgtype: 'm.text' }), {});
  });

  test('keys absent from the content are not invented', () => {
    assert.deepEqual(contentAfter('11', 'm.room.power_levels', { ban: 50 }), { ban: 50 });
  });

  test('m.room.create keeps only creator before v11, everything from v11', () => {
    const content = { creator: '@alice:example.org', room_version: '1', 'm.federate': false };
    for (const id of ALL_VERSIONS.slice(0, 10)) {
      assert.deepEqual(contentAfter(id, 'm.room.create', content), { creator: '@alice:example.org' });
    }
    assert.deepEqual(contentAfter('11', 'm.room.create', content), content);
    const v12Content = { room_version: '12', additional_creators: ['@bob:example.org'], type: 'm.space' };
    assert.deepEqual(contentAfter('12', 'm.room.create', v12Content), v12Content);
  });

  test('m.room.member keeps join_authorised_via_users_server from v9 (not in v8)', () => {
    const content = { membership: 'join', join_authorised_via_users_server: '@srv:example.org', displayname: 'A' };
    assert.deepEqual(contentAfter('8', 'm.room.member', content), { membership: 'join' });
    for (const id of ['9', '10', '11', '12']) {
      assert.deepEqual(contentAfter(id, 'm.room.member', content), {
        membership: 'join',
        join_authorised_via_users_server: '@srv:example.org',
      });
    }
  });

  test('m.room.member keeps third_party_invite.signed only from v11', () => {
    const signed = { mxid: '@bob:example.org', token: 'tok', signatures: {} };
    const content = { membership: 'invite', third_party_invite: { display_name: 'Bob', signed } };
    assert.deepEqual(contentAfter('10', 'm.room.member', content), { membership: 'invite' });
    assert.deepEqual(contentAfter('11', 'm.room.member', content), { membership: 'invite', third_party_invite: { signed } });
    assert.deepEqual(contentAfter('12', 'm.room.member', content), { membership: 'invite', third_party_invite: { signed } });
    // An object without `signed` stays as an empty object; a non-object goes.
    assert.deepEqual(contentAfter('11', 'm.room.member', { membership: 'invite', third_party_invite: { display_name: 'B' } }), {
      membership: 'invite',
      third_party_invite: {},
    });
    assert.deepEqual(contentAfter('11', 'm.room.member', { membership: 'invite', third_party_invite: 'x' }), {
      membership: 'invite',
    });
  });

  test('m.room.join_rules keeps allow from v8 (not in v7)', () => {
    const content = { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!a:b' }], other: 1 };
    assert.deepEqual(contentAfter('7', 'm.room.join_rules', content), { join_rule: 'restricted' });
    for (const id of ['8', '9', '10', '11', '12']) {
      assert.deepEqual(contentAfter(id, 'm.room.join_rules', content), { join_rule: 'restricted', allow: content.allow });
    }
  });

  test('m.room.power_levels keeps invite from v11 (not in v10); notifications always goes', () => {
    const kept = {
      ban: 50,
      events: { 'm.room.name': 50 },
      events_default: 0,
      kick: 50,
      redact: 50,
      state_default: 50,
      users: { '@alice:example.org': 100 },
      users_default: 0,
    };
    const content = { ...kept, invite: 0, notifications: { room: 50 } };
    for (const id of ALL_VERSIONS.slice(0, 10)) assert.deepEqual(contentAfter(id, 'm.room.power_levels', content), kept);
    for (const id of ['11', '12']) {
      assert.deepEqual(contentAfter(id, 'm.room.power_levels', content), { ...kept, invite: 0 });
    }
  });

  test('m.room.aliases keeps aliases in v1–v5 only', () => {
    const content = { aliases: ['#a:example.org'] };
    for (const id of ['1', '2', '3', '4', '5']) assert.deepEqual(contentAfter(id, 'm.room.aliases', content), content);
    for (const id of ['6', '7', '8', '9', '10', '11', '12']) assert.deepEqual(contentAfter(id, 'm.room.aliases', content), {});
  });

  test('m.room.history_visibility keeps history_visibility in every version', () => {
    for (const id of ALL_VERSIONS) {
      assert.deepEqual(contentAfter(id, 'm.room.history_visibility', { history_visibility: 'shared', x: 1 }), {
        history_visibility: 'shared',
      });
    }
  });

  test('m.room.redaction keeps content.redacts from v11 (not in v10)', () => {
    const content = { redacts: '$target', reason: 'spam' };
    assert.deepEqual(contentAfter('10', 'm.room.redaction', content), {});
    assert.deepEqual(contentAfter('11', 'm.room.redaction', content), { redacts: '$target' });
    assert.deepEqual(contentAfter('12', 'm.room.redaction', content), { redacts: '$target' });
  });
});
