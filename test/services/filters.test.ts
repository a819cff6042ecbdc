import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEventFields,
  DEFAULT_FILTER,
  eventMatchesFilter,
  includeRedundantMembers,
  lazyLoadMembers,
  parseFilter,
  parseRoomEventFilter,
  roomIncluded,
  timelineLimit,
  typeMatches,
} from '../../src/services/filters/index.js';
import { MatrixError } from '../../src/core/errors.js';

const message = { type: 'm.room.message', sender: '@alice:x', room_id: '!a:x', content: { body: 'hi' } };

describe('parseFilter', () => {
  test('an empty filter gets every default', () => {
    const f = parseFilter({});
    assert.equal(f.eventFormat, 'client');
    assert.equal(f.eventFields, undefined);
    assert.equal(f.room.includeLeave, false);
    assert.equal(f.room.timeline.limit, undefined);
    assert.equal(f.room.timeline.types, undefined);
    assert.deepEqual(f.room.timeline.notTypes, []);
    assert.equal(f.room.state.lazyLoadMembers, false);
    assert.equal(f.room.timeline.containsUrl, undefined);
    assert.deepEqual(f, DEFAULT_FILTER);
    assert.deepEqual(parseFilter(undefined), DEFAULT_FILTER);
  });

  test('reads every section and flag', () => {
    const f = parseFilter({
      event_format: 'federation',
      event_fields: ['content.body'],
      presence: { limit: 3, not_senders: ['@x:y'] },
      account_data: { types: ['m.*'] },
      room: {
        rooms: ['!a:x'],
        not_rooms: ['!b:x'],
        include_leave: true,
        timeline: { limit: 20, contains_url: true, unread_thread_notifications: true },
        state: { lazy_load_members: true, include_redundant_members: true },
        ephemeral: { not_types: ['m.receipt'] },
        account_data: { senders: ['@a:x'] },
      },
    });
    assert.equal(f.eventFormat, 'federation');
    assert.deepEqual(f.eventFields, ['content.body']);
    assert.equal(f.presence.limit, 3);
    assert.deepEqual(f.presence.notSenders, ['@x:y']);
    assert.deepEqual(f.accountData.types, ['m.*']);
    assert.deepEqual(f.room.rooms, ['!a:x']);
    assert.deepEqual(f.room.notRooms, ['!b:x']);
    assert.equal(f.room.includeLeave, true);
    assert.equal(f.room.timeline.limit, 20);
    assert.equal(f.room.timeline.containsUrl, true);
    assert.equal(f.room.timeline.unreadThreadNotifications, true);
    assert.deepEqual(f.room.ephemeral.notTypes, ['m.receipt']);
    assert.deepEqual(f.room.accountData.senders, ['@a:x']);
    assert.equal(lazyLoadMembers(f), true);
    assert.equal(includeRedundantMembers(f), true);
  });

  test('room IDs of both forms: !opaque:server and v12 !hash', () => {
    const v12 = '!' + 'A1-_'.repeat(10) + 'xyz';
    const f = parseFilter({ room: { rooms: [v12, '!a:example.org'], timeline: { not_rooms: [v12] } } });
    assert.deepEqual(f.room.rooms, [v12, '!a:example.org']);
    assert.deepEqual(f.room.timeline.notRooms, [v12]);
  });

  test('rejects bad values, naming the field', () => {
    const reject = (json: unknown, errcode: string, field: string) => {
      assert.throws(
        () => parseFilter(json as never),
        (err: unknown) => err instanceof MatrixError && err.status === 400 && err.errcode === errcode && err.message.includes(field),
        JSON.stringify(json),
      );
    };
    reject([], 'M_BAD_JSON', 'filter');
    reject({ room: [] }, 'M_BAD_JSON', "'room'");
    reject({ room: { timeline: { limit: -1 } } }, 'M_INVALID_PARAM', 'room.timeline.limit');
    reject({ room: { timeline: { limit: 1.5 } } }, 'M_BAD_JSON', 'room.timeline.limit');
    reject({ room: { include_leave: 1 } }, 'M_BAD_JSON', 'room.include_leave');
    reject({ room: { state: { contains_url: 'no' } } }, 'M_BAD_JSON', 'room.state.contains_url');
    reject({ room: { not_rooms: ['x'] } }, 'M_INVALID_PARAM', 'room.not_rooms[0]');
    reject({ room: { rooms: ['!nocolon'] } }, 'M_INVALID_PARAM', 'room.rooms[0]');
    reject({ room: { timeline: { not_rooms: ['!a:bad_server!'] } } }, 'M_INVALID_PARAM', 'room.timeline.not_rooms[0]');
    reject({ room: { timeline: { senders: ['@nocolon'] } } }, 'M_INVALID_PARAM', 'room.timeline.senders[0]');
    reject({ presence: { not_senders: ['@a:'] } }, 'M_INVALID_PARAM', 'presence.not_senders[0]');
    reject({ account_data: { not_types: [1] } }, 'M_BAD_JSON', 'account_data.not_types[0]');
    reject({ event_fields: 'type' }, 'M_BAD_JSON', 'event_fields');
    reject({ event_format: 'raw' }, 'M_INVALID_PARAM', 'event_format');
  });
});

describe('eventMatchesFilter', () => {
  test('an empty filter passes everything', () => {
    assert.equal(eventMatchesFilter(message, DEFAULT_FILTER.room.timeline), true);
  });

  test('types with * globs; not_types wins over types', () => {
    assert.equal(typeMatches('m.room.*', 'm.room.message'), true);
    assert.equal(typeMatches('m.room.*', 'm.roomy'), false);
    assert.equal(typeMatches('*', 'anything'), true);
    assert.equal(typeMatches('m.*.message', 'm.room.message'), true);
    assert.equal(typeMatches('m.room.message', 'm.room.messages'), false);
    assert.equal(typeMatches('m.room.?', 'm.room.x'), false, '? is literal, not a wildcard');
    assert.equal(typeMatches('M.ROOM.*', 'm.room.message'), false, 'case-sensitive');
    const f = parseFilter({ room: { timeline: { types: ['m.room.*'], not_types: ['m.room.member'] } } }).room.timeline;
    assert.equal(eventMatchesFilter(message, f), true);
    assert.equal(eventMatchesFilter({ ...message, type: 'm.room.member' }, f), false);
    assert.equal(eventMatchesFilter({ ...message, type: 'm.reaction' }, f), false);
    const none = parseFilter({ presence: { not_types: ['*'] } }).presence;
    assert.equal(eventMatchesFilter({ type: 'm.presence', sender: '@a:x' }, none), false);
  });

  test('senders and not_senders', () => {
    const f = parseFilter({ room: { timeline: { senders: ['@alice:x', '@bob:x'], not_senders: ['@bob:x'] } } }).room.timeline;
    assert.equal(eventMatchesFilter(message, f), true);
    assert.equal(eventMatchesFilter({ ...message, sender: '@bob:x' }, f), false);
    assert.equal(eventMatchesFilter({ ...message, sender: '@carol:x' }, f), false);
  });

  test('rooms and not_rooms, on a RoomEventFilter and on the RoomFilter', () => {
    const f = parseFilter({ room: { not_rooms: ['!b:x'], timeline: { rooms: ['!a:x'] } } });
    assert.equal(eventMatchesFilter(message, f.room.timeline), true);
    assert.equal(eventMatchesFilter({ ...message, room_id: '!c:x' }, f.room.timeline), false);
    assert.equal(roomIncluded(f, '!a:x'), true);
    assert.equal(roomIncluded(f, '!b:x'), false);
    const only = parseFilter({ room: { rooms: ['!a:x'], not_rooms: ['!a:x'] } });
    assert.equal(roomIncluded(only, '!a:x'), false, 'not_rooms wins');
  });

  test('contains_url: true keeps only events with a url, false only those without', () => {
    const image = { ...message, content: { url: 'mxc://x/y' } };
    const withUrl = parseRoomEventFilter({ contains_url: true });
    const withoutUrl = parseRoomEventFilter({ contains_url: false });
    assert.equal(eventMatchesFilter(image, withUrl), true);
    assert.equal(eventMatchesFilter(message, withUrl), false);
    assert.equal(eventMatchesFilter(image, withoutUrl), false);
    assert.equal(eventMatchesFilter(message, withoutUrl), true);
  });
});

describe('filter helpers', () => {
  test('timeline limit: the filter, else the default, capped', () => {
    assert.equal(timelineLimit(DEFAULT_FILTER.room.timeline), 10);
    assert.equal(timelineLimit(DEFAULT_FILTER.room.timeline, 20), 20);
    assert.equal(timelineLimit(parseFilter({ room: { timeline: { limit: 50 } } }).room.timeline), 50);
    assert.equal(timelineLimit(parseFilter({ room: { timeline: { limit: 5000 } } }).room.timeline, 10, 1000), 1000);
  });

  test('lazy loading: from the state filter of a sync filter, or a RoomEventFilter; redundant members only when lazy', () => {
    assert.equal(lazyLoadMembers(DEFAULT_FILTER), false);
    assert.equal(lazyLoadMembers(parseFilter({ room: { timeline: { lazy_load_members: true } } })), false);
    assert.equal(lazyLoadMembers(parseRoomEventFilter({ lazy_load_members: true })), true);
    assert.equal(includeRedundantMembers(parseRoomEventFilter({ include_redundant_members: true })), false);
    assert.equal(includeRedundantMembers(parseRoomEventFilter({ lazy_load_members: true, include_redundant_members: true })), true);
  });

  test('event_fields keeps only the named paths, with escaped dots', () => {
    const event = { type: 'm.room.message', sender: '@a:x', content: { body: 'hi', 'm.relates_to': { rel_type: 'm.thread' }, msgtype: 'm.text' } };
    assert.deepEqual(applyEventFields(event, ['type', 'content.body', 'content.m\\.relates_to.rel_type', 'content.absent', 'unsigned.age']), {
      type: 'm.room.message',
      content: { body: 'hi', 'm.relates_to': { rel_type: 'm.thread' } },
    });
    assert.equal(applyEventFields(event, undefined), event);
  });
});
