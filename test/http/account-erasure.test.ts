// POST /account/deactivate with `erase: true` (account_deactivation.yaml;
// Synapse's user erasure), over real HTTP on both engines and in room
// versions 10 and 12: the erased user's past messages reach those who were in
// the room when they were sent unchanged, and everyone else — whether they
// joined before or after the erasure — only redacted, on every read path.
// Without `erase`, deactivation hides nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { readPathClient, type Json } from './visibility-helpers.js';

const PASSWORD = 'correct horse battery';

for (const engine of ENGINES) {
  describe(`account erasure (${engine})`, () => {
    let hs: TestHomeserver;
    let bob: TestUser;
    const c = () => readPathClient(hs.baseUrl);
    const room = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;
    const deactivate = async (user: TestUser, localpart: string, erase: boolean) => {
      const auth = { type: 'm.login.password', identifier: { type: 'm.id.user', user: localpart }, password: PASSWORD };
      await c().ok('POST', '/account/deactivate', { auth, erase }, user);
    };
    /** What `reader` is served of `eventId` on each read path, as its content. */
    const servedContent = async (reader: TestUser, roomId: string, eventId: string): Promise<Record<string, Json>> => {
      const find = (events: Json[]) => events.find((e) => e.event_id === eventId)?.content as Json;
      const filter = JSON.stringify({ room: { timeline: { limit: 50 } } });
      const after = (await c().ok('GET', `${room(roomId)}/messages?dir=b&limit=50`, undefined, reader)).chunk;
      const context = await c().ok('GET', `${room(roomId)}/context/${encodeURIComponent(eventId)}`, undefined, reader);
      const sliding = await c().slidingSync(reader, { room_subscriptions: { [roomId]: { required_state: [], timeline_limit: 50 } } });
      return {
        '/messages': find(after),
        '/event': (await c().ok('GET', `${room(roomId)}/event/${encodeURIComponent(eventId)}`, undefined, reader)).content,
        '/context': context.event.content,
        '/sync': find((await c().sync(reader, { filter })).rooms.join[roomId].timeline.events),
        'sliding sync': find(sliding.rooms[roomId].timeline),
      };
    };
    const everywhere = (content: Json) => ({ '/messages': content, '/event': content, '/context': content, '/sync': content, 'sliding sync': content });

    before(async () => {
      hs = await startTestHomeserver({ engine });
      bob = await registerUser(hs.baseUrl, 'bob');
    });
    after(async () => hs.close());

    for (const version of ['10', '12']) {
      test(`an erased user's messages reach only those who were in the room, others see them redacted (v${version})`, async () => {
        const frank = await registerUser(hs.baseUrl, `frank${version}`, PASSWORD);
        const erin = await registerUser(hs.baseUrl, `erin${version}`);
        const roomId = await c().createRoom(frank, { room_version: version });
        await c().ok('POST', `${room(roomId)}/join`, {}, bob);
        const content = { msgtype: 'm.text', body: 'frank was here' };
        const message = await c().send(frank, roomId, content);
        await c().ok('POST', `${room(roomId)}/join`, {}, erin);
        assert.deepEqual(await servedContent(erin, roomId, message), everywhere(content), 'before the erasure erin reads it (shared history)');

        await deactivate(frank, `frank${version}`, true);
        const later = await registerUser(hs.baseUrl, `gus${version}`);
        await c().ok('POST', `${room(roomId)}/join`, {}, later);
        assert.deepEqual(await servedContent(bob, roomId, message), everywhere(content), 'bob was in the room when it was sent');
        assert.deepEqual(await servedContent(erin, roomId, message), everywhere({}), 'erin joined after it was sent');
        assert.deepEqual(await servedContent(later, roomId, message), everywhere({}), 'gus joined after the erasure');
        const search = await c().ok('POST', '/search', { search_categories: { room_events: { search_term: 'frank', filter: { rooms: [roomId] } } } }, erin);
        assert.deepEqual((search.search_categories.room_events.results as Json[]).map((r) => r.result.content), [{}], '/search');
      });

      test(`deactivation without erase hides nothing (v${version})`, async () => {
        const hana = await registerUser(hs.baseUrl, `hana${version}`, PASSWORD);
        const ivan = await registerUser(hs.baseUrl, `ivan${version}`);
        const roomId = await c().createRoom(hana, { room_version: version });
        const content = { msgtype: 'm.text', body: 'hana was here' };
        const message = await c().send(hana, roomId, content);
        await deactivate(hana, `hana${version}`, false);
        await c().ok('POST', `${room(roomId)}/join`, {}, ivan);
        assert.deepEqual(await servedContent(ivan, roomId, message), everywhere(content));
      });
    }
  });
}
