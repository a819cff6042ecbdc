// Pure rules of the e2ee services: which backed-up key wins, and how device
// list rows combine into /sync's changed and left.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isBetter } from '../../src/services/e2ee/index.js';
import { DeviceListService } from '../../src/services/e2ee/device-lists.js';
import { Notifier } from '../../src/services/notifier.js';
import type { DeviceListStore, ViewerChangeKind } from '../../src/storage/e2ee/index.js';
import type { Database } from '../../src/storage/database.js';

const key = (firstMessageIndex: number, forwardedCount: number, isVerified: boolean) => ({ firstMessageIndex, forwardedCount, isVerified, sessionData: {} });

describe('key backup replacement rule', () => {
  test('verified wins, then the lower first_message_index, then the lower forwarded_count; ties keep the old key', () => {
    assert.equal(isBetter(key(9, 9, true), key(0, 0, false)), true);
    assert.equal(isBetter(key(0, 0, false), key(9, 9, true)), false);
    assert.equal(isBetter(key(1, 5, false), key(2, 0, false)), true);
    assert.equal(isBetter(key(2, 0, false), key(1, 5, false)), false);
    assert.equal(isBetter(key(1, 0, true), key(1, 1, true)), true);
    assert.equal(isBetter(key(1, 1, true), key(1, 1, true)), false);
  });
});

describe('device list changesSince', () => {
  function service(keyChanges: string[], viewerRows: Array<[string, ViewerChangeKind]>): DeviceListService {
    const store = {
      keyChangesVisibleTo: async () => keyChanges,
      viewerChanges: async () => new Map(viewerRows),
    } as unknown as DeviceListStore;
    const memberships = { usersSharingRoomsWith: async () => [], membersOfRoom: async () => [] };
    return new DeviceListService({} as Database, store, memberships, new Notifier(), async () => 'leave', 7);
  }

  test('key changes and joins are changed; leaves are left unless a room is shared again', async () => {
    const s = service(['@keys:hs', '@back:hs'], [['@joined:hs', 'changed'], ['@gone:hs', 'left'], ['@back:hs', 'left']]);
    assert.deepEqual(await s.changesSince('@me:hs', 0, 7), { changed: ['@back:hs', '@joined:hs', '@keys:hs'], left: ['@gone:hs'] });
    assert.equal(s.currentPosition(), 7);
  });

  test('an empty window reads nothing', async () => {
    const s = service(['@keys:hs'], []);
    assert.deepEqual(await s.changesSince('@me:hs', 7, 7), { changed: [], left: [] });
  });
});
