// The founding story through real clients: matrix-js-sdk on hs1 (SQLite)
// and on hs2 (PostgreSQL), two Axon servers federating over verified TLS
// (test CA, federation_hosts). Alice of hs1 makes a public room with an alias
// and writes some history; Bob of hs2 is invited, joins by the alias, reads
// the history from before his join (backfilled from hs1), and the two
// exchange messages, typing, receipts and presence, and look up each other's
// profile, the alias, hs1's public rooms and hs1's media through hs2.
// Once in the default room version (12) and once in version 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { registerUser, type TestUser } from '../helpers/client.js';
import { startFederation, type Federation } from '../helpers/federation.js';
import { quietLogger, waitFor } from './sdk-helpers.js';

/** Federation adds hops (queue, transaction, fetches back): more room than one server needs. */
const ACROSS_MS = 20_000;
const HISTORY = 5;

async function startClient(baseUrl: string, user: TestUser): Promise<sdk.MatrixClient> {
  const client = sdk.createClient({ baseUrl, accessToken: user.accessToken, userId: user.userId, deviceId: user.deviceId, logger: quietLogger });
  const prepared = new Promise<void>((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === sdk.SyncState.Prepared) resolve();
      if (state === sdk.SyncState.Error) reject(data?.error ?? new Error('sync error'));
    });
  });
  await client.startClient({ initialSyncLimit: 3 });
  await prepared;
  return client;
}

/** The bodies of the room's messages as `client`'s live timeline holds them, oldest first. */
function bodies(client: sdk.MatrixClient, roomId: string): string[] {
  const events = client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [];
  return events.filter((e) => e.getType() === 'm.room.message').map((e) => e.getContent().body as string);
}

describe('matrix-js-sdk clients on two federating Axon servers', () => {
  let fed: Federation;
  let hs1Url: string;
  let hs2Url: string;
  let bobUser: TestUser;
  let alice: sdk.MatrixClient;
  let bob: sdk.MatrixClient;

  before(async () => {
    // hs1 lists its public rooms to other servers (off by default, as in Synapse).
    fed = await startFederation({ servers: [{ name: 'hs1.test', config: { allowPublicRoomsOverFederation: true } }, { name: 'hs2.test', engine: 'postgres' }] });
    hs1Url = fed.servers[0]!.clientUrl;
    hs2Url = fed.servers[1]!.clientUrl;
    const [a, b] = await Promise.all([registerUser(hs1Url, 'alice'), registerUser(hs2Url, 'bob')]);
    bobUser = b;
    [alice, bob] = await Promise.all([startClient(hs1Url, a), startClient(hs2Url, b)]);
  });
  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await fed?.close();
  });

  for (const version of ['12', '10']) {
    test(`v${version}: invite, join by alias, history from before the join, messages both ways`, async () => {
      const alias = `#lan${version}:hs1.test`;
      const { room_id: roomId } = await alice.createRoom({
        room_version: version,
        room_alias_name: `lan${version}`,
        name: `LAN ${version}`,
        preset: sdk.Preset.PublicChat,
        visibility: sdk.Visibility.Public,
      });
      for (let i = 1; i <= HISTORY; i++) await alice.sendTextMessage(roomId, `before the join ${i}`);

      await alice.invite(roomId, bob.getUserId()!);
      await waitFor('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite, ACROSS_MS);
      const joined = await bob.joinRoom(alias);
      assert.equal(joined.roomId, roomId);
      await waitFor('alice to see bob join', () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === sdk.KnownMembership.Join, ACROSS_MS);

      // hs2 has only the state from the join: scrolling back makes it backfill from hs1.
      await waitFor('bob to scroll back to the first message', async () => {
        const room = bob.getRoom(roomId)!;
        if (!bodies(bob, roomId).includes('before the join 1')) await bob.scrollback(room, 30);
        return bodies(bob, roomId).includes('before the join 1');
      }, ACROSS_MS);
      const history = bodies(bob, roomId).filter((b) => b.startsWith('before the join'));
      assert.deepEqual(history, Array.from({ length: HISTORY }, (_, i) => `before the join ${i + 1}`), 'history in order, each once');

      await alice.sendTextMessage(roomId, `to hs2 in v${version}`);
      await waitFor('bob to receive alice’s message', () => bodies(bob, roomId).includes(`to hs2 in v${version}`), ACROSS_MS);
      await bob.sendTextMessage(roomId, `to hs1 in v${version}`);
      await waitFor('alice to receive bob’s message', () => bodies(alice, roomId).includes(`to hs1 in v${version}`), ACROSS_MS);
    });
  }

  test('typing, receipts and presence cross both ways', async () => {
    const { room_id: roomId } = await alice.createRoom({ preset: sdk.Preset.PublicChat, invite: [bob.getUserId()!] });
    await waitFor('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite, ACROSS_MS);
    await bob.joinRoom(roomId);
    await waitFor('alice to see bob join', () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === sdk.KnownMembership.Join, ACROSS_MS);

    await alice.sendTyping(roomId, true, 20_000);
    await waitFor('bob to see alice typing', () => bob.getRoom(roomId)?.getMember(alice.getUserId()!)?.typing, ACROSS_MS);
    await bob.sendTyping(roomId, true, 20_000);
    await waitFor('alice to see bob typing', () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.typing, ACROSS_MS);

    const { event_id: eventId } = await alice.sendTextMessage(roomId, 'read me');
    const seen = await waitFor('bob to have the message', () => bob.getRoom(roomId)?.findEventById(eventId), ACROSS_MS);
    await bob.sendReadReceipt(seen);
    await waitFor('alice to see bob’s receipt', () => alice.getRoom(roomId)?.getEventReadUpTo(bob.getUserId()!) === eventId, ACROSS_MS);

    await alice.setPresence({ presence: sdk.SetPresence.Online, status_msg: 'on hs1' });
    await waitFor('bob to see alice’s status', () => bob.getUser(alice.getUserId()!)?.presenceStatusMsg === 'on hs1', ACROSS_MS);
    await bob.setPresence({ presence: sdk.SetPresence.Unavailable, status_msg: 'away on hs2' });
    await waitFor('alice to see bob away', () => {
      const user = alice.getUser(bob.getUserId()!);
      return user?.presence === 'unavailable' && user.presenceStatusMsg === 'away on hs2';
    }, ACROSS_MS);
  });

  test('profiles, aliases, public rooms and media of hs1 are looked up through hs2', async () => {
    await alice.setDisplayName('Alice of hs1');
    const profile = await bob.getProfileInfo(alice.getUserId()!);
    assert.equal(profile.displayname, 'Alice of hs1');

    const { room_id: roomId } = await alice.createRoom({ room_alias_name: 'lobby', name: 'Lobby', preset: sdk.Preset.PublicChat, visibility: sdk.Visibility.Public });
    assert.equal((await bob.getRoomIdForAlias('#lobby:hs1.test')).room_id, roomId);
    const listed = await bob.publicRooms({ server: 'hs1.test', limit: 50 });
    assert.ok(listed.chunk.some((r) => r.room_id === roomId && r.name === 'Lobby'), 'hs1’s public room is listed through hs2');

    const bytes = Buffer.from('a file from hs1, read through hs2');
    const { content_uri: mxc } = await alice.uploadContent(bytes, { type: 'text/plain', name: 'note.txt' });
    const url = bob.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
    assert.ok(url, 'an authenticated media URL on hs2');
    const res = await fetch(url!, { headers: { Authorization: `Bearer ${bobUser.accessToken}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  });
});
