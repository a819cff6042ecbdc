// Third-party invites on one server (client-server-api "Third-party
// invites", third_party_membership.yaml, createRoom's invite_3pid; the
// completion through /3pid/onbind and joins with third_party_signed), with a
// fake identity server over HTTPS, on both engines and room versions 12 and 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBase64 } from '../../src/core/base64.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { hashed, startIdentityServer, type FakeIdentityServer } from '../helpers/identity-server.js';
import { ROOM_VERSIONS_UNDER_TEST } from '../helpers/room-versions.js';
import { createTestCa, type TestCa } from '../helpers/tls.js';

const V3 = '/_matrix/client/v3';

for (const engine of ENGINES) {
  describe(`third-party invites (${engine})`, () => {
    let hs: TestHomeserver;
    let ca: TestCa;
    let ids: FakeIdentityServer;
    let alice: TestUser;
    let bob: TestUser;
    let users = 0;
    before(async () => {
      ca = await createTestCa();
      ids = await startIdentityServer(ca);
      hs = await startTestHomeserver({ engine, identityServerCas: [ca.certPem] });
      alice = await registerUser(hs.baseUrl, 'alice');
      bob = await registerUser(hs.baseUrl, 'bob');
      await call(hs.baseUrl, 'PUT', `${V3}/profile/${alice.userId}/displayname`, { displayname: 'Alice A.' }, alice.accessToken);
    });
    after(async () => {
      await hs?.close();
      await ids?.close();
    });

    const newUser = () => registerUser(hs.baseUrl, `invitee${users++}`);
    const inviteBody = (address: string) => ({ id_server: ids.name, id_access_token: ids.accessToken, medium: 'email', address });
    const member = (roomId: string, userId: string, token = alice.accessToken) =>
      call(hs.baseUrl, 'GET', `${V3}/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(userId)}`, undefined, token);

    for (const version of ROOM_VERSIONS_UNDER_TEST) {
      describe(`room version ${version}`, () => {
        const createRoom = async (body: Record<string, unknown> = {}) => {
          const res = await call<{ room_id: string }>(hs.baseUrl, 'POST', `${V3}/createRoom`, { room_version: version, preset: 'private_chat', ...body }, alice.accessToken);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          return res.body.room_id;
        };

        test('an address bound to a user is an ordinary invite of that user, looked up by its sha256 hash', async () => {
          const invitee = await newUser();
          const address = `bound-${version}@example.org`;
          await ids.bind('email', address, invitee.userId);
          const roomId = await createRoom();
          const res = await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/invite`, inviteBody(address), alice.accessToken);
          assert.deepEqual([res.status, res.body], [200, {}]);
          assert.equal((await member(roomId, invitee.userId)).body.membership, 'invite');
          const lookup = ids.requests.filter((r) => r.path === '/_matrix/identity/v2/lookup').at(-1)!;
          assert.deepEqual(lookup.body, { addresses: [hashed(address, 'email', ids.pepper)], algorithm: 'sha256', pepper: ids.pepper });
          assert.equal(lookup.authorization, `Bearer ${ids.accessToken}`);
        });

        test('an unbound address gets an m.room.third_party_invite; binding it invites the user, who can join', async () => {
          const invitee = await newUser();
          const address = `unbound-${version}@example.org`;
          const roomId = await createRoom({ name: 'Lemurs' });
          const res = await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/invite`, inviteBody(address), alice.accessToken);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          const stored = ids.invites.find((i) => i.address === address)!;
          assert.equal(stored.room_id, roomId);
          assert.equal(stored.sender, alice.userId);
          assert.equal(stored.request['sender_display_name'], 'Alice A.');
          assert.equal(stored.request['room_name'], 'Lemurs');
          assert.equal(stored.request['room_join_rules'], 'invite');

          const event = await call(hs.baseUrl, 'GET', `${V3}/rooms/${encodeURIComponent(roomId)}/state/m.room.third_party_invite/${stored.token}`, undefined, alice.accessToken);
          const validity = `https://${ids.name}/_matrix/identity/v2/pubkey/isvalid`;
          assert.deepEqual(event.body, {
            display_name: 'a...@e...',
            public_keys: [
              { public_key: encodeBase64(ids.key.publicKey), key_validity_url: validity },
              { public_key: encodeBase64(ids.ephemeralKey.publicKey), key_validity_url: validity },
            ],
            key_validity_url: validity,
            public_key: encodeBase64(ids.key.publicKey),
          });

          const onbind = await ids.bind('email', address, invitee.userId, { baseUrl: hs.baseUrl });
          assert.deepEqual(onbind, { status: 200, body: {} });
          const invite = await member(roomId, invitee.userId);
          assert.equal(invite.body.membership, 'invite');
          const thirdParty = invite.body.third_party_invite as Record<string, unknown>;
          assert.equal(thirdParty.display_name, 'a...@e...');
          assert.deepEqual((thirdParty.signed as Record<string, unknown>).token, stored.token);
          // The key was checked with the identity server before the invite was made.
          assert.ok(ids.requests.some((r) => r.path === '/_matrix/identity/v2/pubkey/isvalid'));
          const join = await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/join`, {}, invitee.accessToken);
          assert.equal(join.status, 200, JSON.stringify(join.body));
          assert.equal((await member(roomId, invitee.userId)).body.membership, 'join');
        });

        test('the invite survives the inviter leaving: the rules ask only that the sender sent the m.room.third_party_invite', async () => {
          const invitee = await newUser();
          const address = `left-${version}@example.org`;
          const roomId = await createRoom({ invite: [bob.userId] });
          await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/join`, {}, bob.accessToken);
          // Also under /unstable, where SyTest and older clients call it (as Synapse serves it).
          const invited = await call(hs.baseUrl, 'POST', `/_matrix/client/unstable/rooms/${encodeURIComponent(roomId)}/invite`, inviteBody(address), alice.accessToken);
          assert.equal(invited.status, 200, JSON.stringify(invited.body));
          await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/leave`, {}, alice.accessToken);
          assert.equal((await ids.bind('email', address, invitee.userId, { baseUrl: hs.baseUrl }))?.status, 200);
          const join = await call(hs.baseUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, {}, invitee.accessToken);
          assert.equal(join.status, 200, JSON.stringify(join.body));
          assert.equal((await member(roomId, invitee.userId, bob.accessToken)).body.membership, 'join');
        });

        test('a join with third_party_signed turns the third-party invite into an invite first, whichever of its keys signed', async () => {
          const invitee = await newUser();
          const roomId = await createRoom();
          await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/invite`, inviteBody(`join-${version}@example.org`), alice.accessToken);
          const { token } = ids.invites.find((i) => i.room_id === roomId)!;
          // As SyTest: the ephemeral key signs under the key ID ed25519:0; keys are matched by value.
          const signed = ids.sign({ mxid: invitee.userId, sender: alice.userId, token }, { ...ids.ephemeralKey, keyId: 'ed25519:0' });
          const join = await call(hs.baseUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, { third_party_signed: signed }, invitee.accessToken);
          assert.equal(join.status, 200, JSON.stringify(join.body));
          assert.equal((await member(roomId, invitee.userId)).body.membership, 'join');
        });

        test('proof signed by a key the event does not list, or by a revoked key, is refused and nobody is invited', async () => {
          const invitee = await newUser();
          const roomId = await createRoom();
          await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/invite`, inviteBody(`bad-${version}@example.org`), alice.accessToken);
          const { token } = ids.invites.find((i) => i.room_id === roomId)!;
          const wrongKey = ids.sign({ mxid: invitee.userId, sender: alice.userId, token }, generateSigningKey('0'));
          const wrong = await call(hs.baseUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, { third_party_signed: wrongKey }, invitee.accessToken);
          assert.deepEqual([wrong.status, wrong.body.errcode], [403, 'M_FORBIDDEN']);
          assert.match(wrong.body.error as string, /not signed by any key of the m.room.third_party_invite event/);

          ids.revoked.add(encodeBase64(ids.key.publicKey));
          try {
            const revoked = await call(hs.baseUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, { third_party_signed: ids.sign({ mxid: invitee.userId, sender: alice.userId, token }) }, invitee.accessToken);
            assert.deepEqual([revoked.status, revoked.body.errcode], [403, 'M_FORBIDDEN']);
            assert.match(revoked.body.error as string, /no longer vouches for the key/);
          } finally {
            ids.revoked.clear();
          }
          assert.equal((await member(roomId, invitee.userId)).status, 404);
          const forSomeoneElse = await call(hs.baseUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, { third_party_signed: ids.sign({ mxid: bob.userId, sender: alice.userId, token }) }, invitee.accessToken);
          assert.deepEqual([forSomeoneElse.status, forSomeoneElse.body.errcode], [403, 'M_FORBIDDEN']);
        });

        test('when the identity server cannot be asked whether its key is still valid, the proof is refused (502) and nobody is invited', async () => {
          const invitee = await newUser();
          const other = await startIdentityServer(ca);
          const roomId = await createRoom();
          const invited = await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/invite`, { ...inviteBody(`gone-${version}@example.org`), id_server: other.name }, alice.accessToken);
          assert.equal(invited.status, 200, JSON.stringify(invited.body));
          const { token } = other.invites[0]!;
          await other.close();
          const join = await call(hs.baseUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, { third_party_signed: other.sign({ mxid: invitee.userId, sender: alice.userId, token }) }, invitee.accessToken);
          assert.deepEqual([join.status, join.body.errcode], [502, 'M_UNKNOWN']);
          assert.match(join.body.error as string, new RegExp(`Could not reach the identity server ${other.name}`));
          assert.equal((await member(roomId, invitee.userId)).status, 404);
        });

        test('createRoom invite_3pid invites once the room exists; a member who may not invite stores nothing', async () => {
          const invitee = await newUser();
          await ids.bind('email', `create-${version}@example.org`, invitee.userId);
          const roomId = await createRoom({ invite_3pid: [inviteBody(`create-${version}@example.org`), inviteBody(`create-unbound-${version}@example.org`)] });
          assert.equal((await member(roomId, invitee.userId)).body.membership, 'invite');
          assert.ok(ids.invites.some((i) => i.room_id === roomId && i.address === `create-unbound-${version}@example.org`));

          const missing = await call(hs.baseUrl, 'POST', `${V3}/createRoom`, { room_version: version, invite_3pid: [{ medium: 'email', address: 'x@example.org', id_server: ids.name }] }, alice.accessToken);
          assert.deepEqual([missing.status, missing.body.errcode], [400, 'M_MISSING_PARAM']);
          assert.match(missing.body.error as string, /invite_3pid\[0\]\.id_access_token/);

          const restricted = await createRoom({ invite: [bob.userId], power_level_content_override: { invite: 50 } });
          await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(restricted)}/join`, {}, bob.accessToken);
          const before = ids.invites.length;
          const refused = await call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(restricted)}/invite`, inviteBody('nope@example.org'), bob.accessToken);
          assert.deepEqual([refused.status, refused.body.errcode], [403, 'M_FORBIDDEN']);
          assert.match(refused.body.error as string, /needs power level 50 to invite/);
          assert.equal(ids.invites.length, before);
        });
      });
    }

    test('/3pid/onbind answers the last failure after trying every invite, and refuses invites for other servers', async () => {
      const res = await ids.bind('email', 'nobody@example.org', '@someone:elsewhere.example', { baseUrl: hs.baseUrl });
      assert.equal(res?.status, 200, 'no invites: nothing to do');
      const body = ids.sign({ medium: 'email', address: 'x@example.org', mxid: '@x:elsewhere.example', invites: [{ medium: 'email', address: 'x@example.org', mxid: '@x:elsewhere.example', room_id: '!r:elsewhere.example', sender: alice.userId, signed: { mxid: '@x:elsewhere.example', token: 't', signatures: {} } }] });
      const refused = await call(hs.baseUrl, 'PUT', '/_matrix/federation/v1/3pid/onbind', body);
      assert.deepEqual([refused.status, refused.body.errcode], [400, 'M_BAD_JSON']);
      assert.match(refused.body.error as string, /must be a user of this server/);
    });
  });
}

describe('third-party invites are rate limited per inviter (rc_third_party_invite)', () => {
  test('past the burst an invite is 429 M_LIMIT_EXCEEDED, and the identity server is not asked', async () => {
    const ca = await createTestCa();
    const ids = await startIdentityServer(ca);
    const hs = await startTestHomeserver({ identityServerCas: [ca.certPem], config: { rateLimits: { ...defaultLimits(), thirdPartyInvite: { perSecond: 0.001, burstCount: 2 } } } });
    try {
      const carol = await registerUser(hs.baseUrl, 'carol');
      const roomId = (await call<{ room_id: string }>(hs.baseUrl, 'POST', `${V3}/createRoom`, { preset: 'private_chat' }, carol.accessToken)).body.room_id;
      const invite = (n: number) =>
        call(hs.baseUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/invite`, { id_server: ids.name, id_access_token: ids.accessToken, medium: 'email', address: `burst${n}@example.org` }, carol.accessToken);
      assert.equal((await invite(1)).status, 200);
      assert.equal((await invite(2)).status, 200);
      const lookups = ids.requests.length;
      const third = await invite(3);
      assert.deepEqual([third.status, third.body.errcode], [429, 'M_LIMIT_EXCEEDED']);
      assert.equal(typeof third.body.retry_after_ms, 'number');
      assert.equal(ids.requests.length, lookups, 'refused before the identity server was asked anything');
    } finally {
      await hs.close();
      await ids.close();
    }
  });
});

/** The test homeserver's limits (all lifted), to override one of them. */
function defaultLimits() {
  const lifted = { perSecond: 1e9, burstCount: 1e9 };
  return { message: lifted, registration: lifted, login: { address: lifted, account: lifted, failedAttempts: lifted }, thirdPartyInvite: lifted, other: {} };
}
