// Two people chatting through matrix-js-sdk, the library Element is built on,
// against a real Axon: register, create a room, invite, join, exchange
// messages seen through the SDK's own sync loop, paginate back, redact, edit,
// react, see each other's typing and receipts, tag a room of version 12, mark
// it read and change a display name there (as the other member sees them),
// and round-trip an uploaded image and its thumbnail — on SQLite and on
// PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import * as sdk from 'matrix-js-sdk';
import type { RoomMessageEventContent } from 'matrix-js-sdk/lib/@types/events.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { quietLogger as quiet, waitFor } from './sdk-helpers.js';

async function startClient(hs: TestHomeserver, user: TestUser, initialSyncLimit = 20): Promise<sdk.MatrixClient> {
  const client = sdk.createClient({
    baseUrl: hs.baseUrl,
    accessToken: user.accessToken,
    userId: user.userId,
    deviceId: user.deviceId,
    logger: quiet,
  });
  const prepared = new Promise<void>((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === sdk.SyncState.Prepared) resolve();
      if (state === sdk.SyncState.Error) reject(data?.error ?? new Error('sync error'));
    });
  });
  await client.startClient({ initialSyncLimit, lazyLoadMembers: true });
  await prepared;
  return client;
}

function bodies(client: sdk.MatrixClient, roomId: string): string[] {
  const room = client.getRoom(roomId);
  return (room?.getLiveTimeline().getEvents() ?? [])
    .filter((e) => e.getType() === 'm.room.message')
    .map((e) => e.getContent().body as string);
}

for (const engine of ENGINES) {
  describe(`matrix-js-sdk against Axon (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: sdk.MatrixClient;
    let bob: sdk.MatrixClient;
    let aliceUser: TestUser;
    let bobUser: TestUser;
    let roomId: string;

    before(async () => {
      hs = await startTestHomeserver({ engine });
      const [a, b] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
      aliceUser = a;
      bobUser = b;
      [alice, bob] = await Promise.all([startClient(hs, a), startClient(hs, b)]);
    });
    after(async () => {
      alice?.stopClient();
      bob?.stopClient();
      await hs?.close();
    });

    test('create, invite, join and exchange messages through the sync loop', async () => {
      ({ room_id: roomId } = await alice.createRoom({ name: 'Team', preset: sdk.Preset.PrivateChat, invite: [bob.getUserId()!] }));
      await waitFor('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite);
      await bob.joinRoom(roomId);
      await waitFor('alice to see bob join', () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === sdk.KnownMembership.Join);
      await alice.sendTextMessage(roomId, 'hello bob');
      await waitFor('bob to receive hello', () => bodies(bob, roomId).includes('hello bob'));
      await bob.sendTextMessage(roomId, 'hi alice');
      await waitFor('alice to receive hi', () => bodies(alice, roomId).includes('hi alice'));
      assert.equal(bob.getRoom(roomId)?.name, 'Team');
    });

    test('a fresh client paginates back through history', async () => {
      for (let i = 0; i < 25; i++) await alice.sendTextMessage(roomId, `history ${i}`);
      await waitFor('bob to receive the history', () => bodies(bob, roomId).includes('history 24'));
      const fresh = await startClient(hs, await loginAgain(hs, bobUser), 5);
      try {
        const room = await waitFor('the room in the fresh client', () => fresh.getRoom(roomId));
        assert.ok(bodies(fresh, roomId).length <= 5);
        while (!bodies(fresh, roomId).includes('hello bob')) {
          const before = room.getLiveTimeline().getEvents().length;
          await fresh.scrollback(room, 10);
          if (room.getLiveTimeline().getEvents().length === before) break;
        }
        const seen = bodies(fresh, roomId);
        assert.ok(seen.includes('hello bob'), 'pagination reached the first message');
        assert.deepEqual(seen.filter((b) => b.startsWith('history')), Array.from({ length: 25 }, (_, i) => `history ${i}`));
      } finally {
        fresh.stopClient();
      }
    });

    test('redactions, edits and reactions reach the other side', async () => {
      const { event_id: oops } = await alice.sendTextMessage(roomId, 'oops, wrong room');
      await waitFor('bob to receive the mistake', () => bob.getRoom(roomId)?.findEventById(oops));
      await alice.redactEvent(roomId, oops);
      await waitFor('bob to see it redacted', () => bob.getRoom(roomId)?.findEventById(oops)?.isRedacted());

      const { event_id: original } = await alice.sendTextMessage(roomId, 'teh typo');
      await alice.sendMessage(roomId, {
        msgtype: sdk.MsgType.Text,
        body: '* the typo',
        'm.new_content': { msgtype: sdk.MsgType.Text, body: 'the typo' },
        'm.relates_to': { rel_type: sdk.RelationType.Replace, event_id: original },
      } as RoomMessageEventContent);
      await waitFor('bob to see the edit applied', () => bob.getRoom(roomId)?.findEventById(original)?.getContent().body === 'the typo');

      await bob.sendEvent(roomId, sdk.EventType.Reaction, {
        'm.relates_to': { rel_type: sdk.RelationType.Annotation, event_id: original, key: '👍' },
      });
      await waitFor('alice to receive the reaction', () =>
        alice
          .getRoom(roomId)
          ?.getLiveTimeline()
          .getEvents()
          .some((e) => e.getType() === 'm.reaction' && e.getRelation()?.event_id === original && e.getRelation()?.key === '👍'),
      );
    });

    test('typing notifications and read receipts', async () => {
      await alice.sendTyping(roomId, true, 10_000);
      await waitFor('bob to see alice typing', () => bob.getRoom(roomId)?.getMember(alice.getUserId()!)?.typing);
      await alice.sendTyping(roomId, false, 0);
      await waitFor('bob to see alice stop', () => bob.getRoom(roomId)?.getMember(alice.getUserId()!)?.typing === false);

      const { event_id: latest } = await alice.sendTextMessage(roomId, 'did you read this?');
      const event = await waitFor('bob to receive it', () => bob.getRoom(roomId)?.findEventById(latest));
      await bob.sendReadReceipt(event);
      await waitFor('alice to see bob’s receipt', () => alice.getRoom(roomId)?.getEventReadUpTo(bob.getUserId()!) === latest);
    });

    test('in a room of version 12 (room ID without a server part): a tag, the read marker and a display name, as the same client, a fresh one and the other member see them', async () => {
      const { room_id: hashed } = await alice.createRoom({ name: 'Hashed', preset: sdk.Preset.PrivateChat, room_version: '12', invite: [bob.getUserId()!] });
      assert.ok(!hashed.includes(':'), hashed);
      await waitFor('bob to see the v12 invite', () => bob.getRoom(hashed)?.getMyMembership() === sdk.KnownMembership.Invite);
      await bob.joinRoom(hashed);
      const { event_id: latest } = await bob.sendTextMessage(hashed, 'mark me read');
      const received = await waitFor('alice to receive bob’s message', () => alice.getRoom(hashed)?.findEventById(latest));
      await alice.setRoomTag(hashed, 'm.favourite', { order: 0.5 });
      await alice.setRoomReadMarkers(hashed, latest, received);
      await alice.setDisplayName('Alice in v12');
      await waitFor('the tag through sync', () => alice.getRoom(hashed)?.tags['m.favourite']);
      await waitFor('the read marker through sync', () => alice.getRoom(hashed)?.getAccountData('m.fully_read')?.getContent().event_id === latest);

      // What bob sees: alice's read receipt and her new name; her tag and read marker are hers alone.
      await waitFor('bob to see alice’s receipt', () => bob.getRoom(hashed)?.getEventReadUpTo(alice.getUserId()!) === latest);
      await waitFor('bob to see alice’s new name', () => bob.getRoom(hashed)?.getMember(alice.getUserId()!)?.name === 'Alice in v12');
      assert.deepEqual(bob.getRoom(hashed)!.tags, {});
      assert.equal(bob.getRoom(hashed)!.getAccountData('m.fully_read'), undefined);

      // A client starting for a user with tags in a v12 room (matrix-js-sdk's start-up failed on this).
      const fresh = await startClient(hs, await loginAgain(hs, aliceUser));
      try {
        const room = await waitFor('the room in the fresh client', () => fresh.getRoom(hashed));
        assert.deepEqual(room.tags['m.favourite'], { order: 0.5 });
        assert.equal(room.getAccountData('m.fully_read')?.getContent().event_id, latest);
        assert.equal(room.getMember(alice.getUserId()!)?.name, 'Alice in v12');
      } finally {
        fresh.stopClient();
      }
    });

    test('an uploaded image and its thumbnail round-trip', async () => {
      const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toBuffer();
      const { content_uri: mxc } = await alice.uploadContent(png, { type: 'image/png', name: 'photo.png' });
      await alice.sendMessage(roomId, { msgtype: sdk.MsgType.Image, body: 'photo.png', url: mxc, info: { mimetype: 'image/png', w: 640, h: 480, size: png.length } });
      await waitFor('bob to receive the image', () => bob.getRoom(roomId)?.getLiveTimeline().getEvents().some((e) => e.getContent().url === mxc));

      const headers = { Authorization: `Bearer ${bob.getAccessToken()}` };
      const download = await fetch(bob.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true)!, { headers });
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), png);
      const thumbnail = await fetch(bob.mxcUrlToHttp(mxc, 96, 96, 'scale', false, true, true)!, { headers });
      assert.equal(thumbnail.status, 200);
      const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
      assert.ok(meta.width! <= 640 && meta.width! >= 96, `thumbnail width ${meta.width}`);
    });
  });
}

async function loginAgain(hs: TestHomeserver, user: TestUser): Promise<TestUser> {
  const res = await fetch(`${hs.baseUrl}/_matrix/client/v3/login`, {
    method: 'POST',
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password: 'correct horse battery' }),
  });
  const body = (await res.json()) as { user_id: string; access_token: string; device_id: string };
  return { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id };
}
