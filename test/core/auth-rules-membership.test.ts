import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isSignedByPublicKey } from '../../src/core/auth-rules.js';
import { encodeBase64 } from '../../src/core/base64.js';
import { generateSigningKey, signJson } from '../../src/core/signing.js';
import type { JsonObject } from '../../src/core/types.js';
import { ALICE, ALL_VERSIONS, BOB, CAROL, DAVE, TestRoom, assertAllowed, assertDenied, standardRoom } from './fixtures/auth-room.js';

describe('joining', () => {
  for (const version of ALL_VERSIONS) {
    test(`v${version}: the creator's first join right after the create event is allowed`, () => {
      const room = new TestRoom(version);
      assertAllowed(room.check(room.member(ALICE, 'join')));
    });
  }

  test('someone other than the creator cannot use the first-join rule', () => {
    const room = new TestRoom('10');
    assertDenied(room.check(room.member(BOB, 'join')), /have not been invited/);
  });

  test('v1–10 take the creator from content.creator, v11+ from the create sender', () => {
    const v10 = new TestRoom('10', ALICE, { creator: BOB });
    assertAllowed(v10.check(v10.member(BOB, 'join')));
    assertDenied(v10.check(v10.member(ALICE, 'join')), /have not been invited/);
    const v11 = new TestRoom('11', ALICE, { creator: BOB });
    assertAllowed(v11.check(v11.member(ALICE, 'join')));
    assertDenied(v11.check(v11.member(BOB, 'join')), /have not been invited/);
  });

  test('v12: additional creators do not get the first-join rule', () => {
    const room = new TestRoom('12', ALICE, { additional_creators: [BOB] });
    assertDenied(room.check(room.member(BOB, 'join')), /have not been invited/);
  });

  test('the first-join rule needs the create event to be the only prev event', () => {
    const room = new TestRoom('10');
    const join = room.build({ ...room.member(ALICE, 'join'), prev_events: [room.create.event_id, '$other'] });
    assertDenied(room.check(join), /have not been invited/);
  });

  test('joining a public room is allowed; joining for someone else is not', () => {
    const room = standardRoom('10');
    assertAllowed(room.check(room.member(BOB, 'join')));
    assertDenied(room.check(room.member(BOB, 'join', ALICE)), /cannot join the room on behalf of @bob/);
  });

  for (const version of ['1', '6', '10', '12']) {
    test(`v${version}: an invite-only room needs an invite; an invite lets you join`, () => {
      const room = standardRoom(version, { joinRule: 'invite' });
      assertDenied(room.check(room.member(BOB, 'join')), /invite-only and they have not been invited/);
      room.send(room.member(BOB, 'invite', ALICE));
      assertAllowed(room.check(room.member(BOB, 'join')));
    });
  }

  test('a room without join rules is treated as invite-only', () => {
    const room = new TestRoom('10');
    room.send(room.member(ALICE, 'join'));
    assertDenied(room.check(room.member(BOB, 'join')), /invite-only/);
    room.send(room.member(BOB, 'invite', ALICE));
    assertAllowed(room.check(room.member(BOB, 'join')));
  });

  test('a banned user cannot join even a public room (ban wins)', () => {
    const room = standardRoom('10');
    room.send(room.member(BOB, 'ban', ALICE));
    assertDenied(room.check(room.member(BOB, 'join')), /@bob:b.example is banned from this room/);
  });

  test('an unknown join rule does not let anyone join', () => {
    const room = standardRoom('10', { joinRule: 'private' });
    assertDenied(room.check(room.member(BOB, 'join')), /join rule "private" does not allow joining/);
  });

  test('knock join rule: v7+ an invite lets you join; v6 does not know it', () => {
    const v7 = standardRoom('7', { joinRule: 'knock' });
    assertDenied(v7.check(v7.member(BOB, 'join')), /knock-only/);
    v7.send(v7.member(BOB, 'invite', ALICE));
    assertAllowed(v7.check(v7.member(BOB, 'join')));

    const v6 = standardRoom('6', { joinRule: 'knock' });
    v6.send(v6.member(BOB, 'invite', ALICE));
    assertDenied(v6.check(v6.member(BOB, 'join')), /join rule "knock" does not allow joining in room version 6/);
  });
});

describe('restricted joins (v8+)', () => {
  const authorised = (room: TestRoom, by: string): JsonObject =>
    room.member(BOB, 'join', BOB, { join_authorised_via_users_server: by }).content as JsonObject;

  function restrictedRoom(version: string, joinRule = 'restricted'): TestRoom {
    const room = standardRoom(version, { joinRule, powerLevels: { invite: 50 }, users: { [DAVE]: 50 } });
    room.setMembership(CAROL, 'join');
    room.setMembership(DAVE, 'join');
    return room;
  }

  for (const version of ['8', '9', '10', '11', '12']) {
    test(`v${version}: a join authorised by a joined user with invite power is allowed`, () => {
      const room = restrictedRoom(version);
      const join = { type: 'm.room.member', sender: BOB, state_key: BOB, content: authorised(room, DAVE) };
      assertAllowed(room.check(join));
    });
  }

  test('without an authorising user or invite, the join is denied', () => {
    const room = restrictedRoom('9');
    assertDenied(room.check(room.member(BOB, 'join')), /without an invite or a join_authorised_via_users_server/);
  });

  test('an invited user joins a restricted room without an authoriser', () => {
    const room = restrictedRoom('9');
    room.send(room.member(BOB, 'invite', ALICE));
    assertAllowed(room.check(room.member(BOB, 'join')));
  });

  test('the authoriser needs the invite level', () => {
    const room = restrictedRoom('9');
    const join = { type: 'm.room.member', sender: BOB, state_key: BOB, content: authorised(room, CAROL) };
    assertDenied(room.check(join), /@carol:c.example cannot authorise .* do not have the power to invite/);
  });

  test('the authoriser must be joined', () => {
    const room = restrictedRoom('9');
    room.send(room.member(DAVE, 'leave'));
    const join = { type: 'm.room.member', sender: BOB, state_key: BOB, content: authorised(room, DAVE) };
    assertDenied(room.check(join), /not joined to the room/);
  });

  test('v7 does not know the restricted join rule', () => {
    const room = standardRoom('7', { joinRule: 'restricted' });
    const join = { type: 'm.room.member', sender: BOB, state_key: BOB, content: authorised(room, ALICE) };
    assertDenied(room.check(join), /join rule "restricted" does not allow joining in room version 7/);
  });

  test('knock_restricted: v10 allows authorised joins; v9 does not know it', () => {
    const v10 = restrictedRoom('10', 'knock_restricted');
    assertAllowed(v10.check({ type: 'm.room.member', sender: BOB, state_key: BOB, content: authorised(v10, DAVE) }));
    const v9 = restrictedRoom('9', 'knock_restricted');
    assertDenied(
      v9.check({ type: 'm.room.member', sender: BOB, state_key: BOB, content: authorised(v9, DAVE) }),
      /"knock_restricted" does not allow joining in room version 9/,
    );
  });

  test('the authorising server must have signed the event, when a verifier is given', () => {
    const room = restrictedRoom('10');
    const join = room.build({ type: 'm.room.member', sender: BOB, state_key: BOB, content: authorised(room, DAVE) });
    const servers: string[] = [];
    const signedBy = (server: string) => (_event: unknown, name: string): boolean => {
      servers.push(name);
      return name === server;
    };
    assertAllowed(room.check(join, { isSignedByServer: signedBy('a.example') }));
    assert.deepEqual(servers, ['a.example']);
    assertDenied(room.check(join, { isSignedByServer: signedBy('b.example') }), /not signed by the server of join_authorised_via_users_server/);
  });
});

describe('inviting', () => {
  test('a joined member with the invite level can invite', () => {
    const room = standardRoom('10');
    room.send(room.member(BOB, 'join'));
    assertAllowed(room.check(room.member(CAROL, 'invite', BOB)));
  });

  test('the inviter must be joined', () => {
    const room = standardRoom('10');
    assertDenied(room.check(room.member(CAROL, 'invite', BOB)), /@bob:b.example cannot invite: they are not joined/);
  });

  test('joined or banned users cannot be invited', () => {
    const room = standardRoom('10');
    room.send(room.member(BOB, 'join'));
    assertDenied(room.check(room.member(BOB, 'invite', ALICE)), /already joined/);
    room.send(room.member(CAROL, 'ban', ALICE));
    assertDenied(room.check(room.member(CAROL, 'invite', ALICE)), /@carol:c.example is banned/);
  });

  test('the invite level applies', () => {
    const room = standardRoom('10', { powerLevels: { invite: 10 } });
    room.send(room.member(BOB, 'join'));
    assertDenied(room.check(room.member(CAROL, 'invite', BOB)), /needs power level 10 to invite, but has power level 0/);
  });
});

describe('third-party invites', () => {
  const TOKEN = 'tok123';

  function roomWithThirdPartyInvite(
    content: JsonObject = { display_name: 'c...@example.com', public_key: 'keyA', public_keys: [{ public_key: 'keyB' }], key_validity_url: 'https://x' },
  ): TestRoom {
    const room = standardRoom('10');
    room.send(room.member(BOB, 'join'));
    room.send({ type: 'm.room.third_party_invite', sender: BOB, state_key: TOKEN, content });
    return room;
  }

  const invite = (signed: JsonObject | undefined, sender = BOB): { type: string; sender: string; state_key: string; content: JsonObject } => ({
    type: 'm.room.member',
    sender,
    state_key: CAROL,
    content: { membership: 'invite', third_party_invite: signed === undefined ? { display_name: 'c' } : { display_name: 'c', signed } },
  });
  const goodSigned: JsonObject = { mxid: CAROL, token: TOKEN, signatures: { 'id.example': { 'ed25519:0': 'sig' } } };
  const verifyWith = (key: string) => ({ verifyThirdPartyInviteSignature: (_signed: JsonObject, k: string) => k === key });

  test('an invite signed by a key of the m.room.third_party_invite event is allowed', () => {
    const room = roomWithThirdPartyInvite();
    assertAllowed(room.check(invite(goodSigned), verifyWith('keyA')));
    assertAllowed(room.check(invite(goodSigned), verifyWith('keyB')), 'keys listed in public_keys count too');
  });

  test('an invite not signed by any of its keys is denied', () => {
    const room = roomWithThirdPartyInvite();
    assertDenied(room.check(invite(goodSigned), verifyWith('keyZ')), /not signed by any key/);
  });

  test('by default the signature is verified with ed25519, whatever key ID the identity server signed under', () => {
    const identityKey = generateSigningKey('0');
    const otherKey = generateSigningKey('0');
    const room = roomWithThirdPartyInvite({ display_name: 'c', public_keys: [{ public_key: encodeBase64(otherKey.publicKey) }, { public_key: encodeBase64(identityKey.publicKey) }] });
    const signed = signJson({ mxid: CAROL, token: TOKEN }, 'id.example', identityKey);
    assertAllowed(room.check(invite(signed)), 'the second public key verifies it');
    assert.equal(isSignedByPublicKey(signed, encodeBase64(identityKey.publicKey)), true);
    assertDenied(room.check(invite({ ...signed, mxid: CAROL, token: TOKEN, extra: 'tampered' })), /not signed by any key/);
    assertDenied(room.check(invite(signJson({ mxid: CAROL, token: TOKEN }, 'id.example', generateSigningKey('0')))), /not signed by any key/);
  });

  test('shape of the signed block', () => {
    const room = roomWithThirdPartyInvite();
    const verify = verifyWith('keyA');
    assertDenied(room.check(invite(undefined), verify), /no "signed" object/);
    assertDenied(room.check(invite({ token: TOKEN, signatures: {} }), verify), /"mxid" and "token"/);
    assertDenied(room.check(invite({ mxid: BOB, token: TOKEN, signatures: {} }), verify), /signed for @bob:b.example, not @carol/);
    assertDenied(room.check(invite({ mxid: CAROL, token: TOKEN }), verify), /no signatures/);
  });

  test('the token must name an m.room.third_party_invite sent by the same sender', () => {
    const room = roomWithThirdPartyInvite();
    const verify = verifyWith('keyA');
    assertDenied(room.check(invite({ ...goodSigned, token: 'nope' }), verify), /no m.room.third_party_invite event for token "nope"/);
    assertDenied(room.check(invite(goodSigned, ALICE), verify), /Only @bob:b.example, who sent the third-party invite/);
  });

  test('a banned target cannot be invited this way', () => {
    const room = roomWithThirdPartyInvite();
    room.send(room.member(CAROL, 'ban', ALICE));
    assertDenied(room.check(invite(goodSigned), verifyWith('keyA')), /@carol:c.example is banned/);
  });

  test('sending m.room.third_party_invite needs the invite level', () => {
    const room = standardRoom('10', { powerLevels: { invite: 20 } });
    room.send(room.member(BOB, 'join'));
    const event = { type: 'm.room.third_party_invite', sender: BOB, state_key: 'x', content: {} };
    assertDenied(room.check(event), /needs power level 20 to invite/);
    assertAllowed(room.check({ ...event, sender: ALICE }));
  });
});

describe('leaving and kicking', () => {
  test('invited, joined and (v7+) knocking users may leave; others may not', () => {
    const room = standardRoom('10');
    room.send(room.member(BOB, 'invite', ALICE));
    assertAllowed(room.check(room.member(BOB, 'leave')));
    room.send(room.member(BOB, 'join'));
    assertAllowed(room.check(room.member(BOB, 'leave')));
    room.send(room.member(BOB, 'leave'));
    assertDenied(room.check(room.member(BOB, 'leave')), /@bob:b.example cannot leave/);
  });

  test('retracting a knock by leaving: v7 yes, v6 no', () => {
    for (const [version, allowed] of [['6', false], ['7', true]] as const) {
      const room = standardRoom(version);
      room.setMembership(BOB, 'knock');
      const decision = room.check(room.member(BOB, 'leave'));
      if (allowed) assertAllowed(decision);
      else assertDenied(decision, /cannot leave/);
    }
  });

  test('kicking needs the kick level and more power than the target', () => {
    const room = standardRoom('10', { users: { [BOB]: 50, [CAROL]: 50 } });
    room.send(room.member(BOB, 'join'));
    room.send(room.member(CAROL, 'join'));
    room.send(room.member(DAVE, 'join'));
    assertAllowed(room.check(room.member(DAVE, 'leave', BOB)));
    assertDenied(room.check(room.member(CAROL, 'leave', BOB)), /cannot kick @carol:c.example, whose power level 50 is not below their own power level 50/);
    assertDenied(room.check(room.member(ALICE, 'leave', BOB)), /cannot kick @alice/);
    assertDenied(room.check(room.member(BOB, 'leave', DAVE)), /needs power level 50 to kick, but has power level 0/);
  });

  test('the kicker must be joined', () => {
    const room = standardRoom('10', { users: { [BOB]: 50 } });
    room.send(room.member(DAVE, 'join'));
    assertDenied(room.check(room.member(DAVE, 'leave', BOB)), /@bob:b.example cannot kick: they are not joined/);
  });

  test('unbanning needs the ban level as well as the kick level', () => {
    const room = standardRoom('10', { users: { [BOB]: 60 }, powerLevels: { kick: 50, ban: 70 } });
    room.send(room.member(BOB, 'join'));
    room.send(room.member(DAVE, 'ban', ALICE));
    assertDenied(room.check(room.member(DAVE, 'leave', BOB)), /needs power level 70 to unban/);
    assertAllowed(room.check(room.member(DAVE, 'leave', ALICE)));
  });
});

describe('banning', () => {
  test('banning needs the ban level and more power than the target', () => {
    const room = standardRoom('10', { users: { [BOB]: 50, [CAROL]: 50 } });
    room.send(room.member(BOB, 'join'));
    room.send(room.member(CAROL, 'join'));
    assertAllowed(room.check(room.member(DAVE, 'ban', BOB)), 'non-members can be banned');
    assertDenied(room.check(room.member(CAROL, 'ban', BOB)), /cannot ban @carol:c.example/);
    room.send(room.member(DAVE, 'join'));
    assertDenied(room.check(room.member(BOB, 'ban', DAVE)), /needs power level 50 to ban, but has power level 0/);
  });

  test('the banner must be joined', () => {
    const room = standardRoom('10', { users: { [BOB]: 50 } });
    assertDenied(room.check(room.member(DAVE, 'ban', BOB)), /cannot ban: they are not joined/);
  });
});

describe('knocking', () => {
  test('knock is denied before v7 as an unknown membership', () => {
    for (const version of ['1', '6']) {
      const room = standardRoom(version, { joinRule: 'knock' });
      assertDenied(room.check(room.member(BOB, 'knock')), /Knocking is not supported in room version/);
    }
  });

  for (const version of ['7', '10', '12']) {
    test(`v${version}: knocking on a knock room is allowed`, () => {
      const room = standardRoom(version, { joinRule: 'knock' });
      assertAllowed(room.check(room.member(BOB, 'knock')));
    });
  }

  test('knocking needs a knock join rule (knock_restricted from v10)', () => {
    const v7 = standardRoom('7');
    assertDenied(v7.check(v7.member(BOB, 'knock')), /join rule is "public", not knock/);
    const v10 = standardRoom('10', { joinRule: 'knock_restricted' });
    assertAllowed(v10.check(v10.member(BOB, 'knock')));
    const v9 = standardRoom('9', { joinRule: 'knock_restricted' });
    assertDenied(v9.check(v9.member(BOB, 'knock')), /not knock/);
  });

  test('one cannot knock for someone else, nor while banned, invited or joined', () => {
    const room = standardRoom('10', { joinRule: 'knock' });
    assertDenied(room.check(room.member(BOB, 'knock', ALICE)), /cannot knock on behalf of/);
    assertDenied(room.check(room.member(ALICE, 'knock')), /already joined/);
    room.send(room.member(BOB, 'invite', ALICE));
    assertDenied(room.check(room.member(BOB, 'knock')), /already invited/);
    room.send(room.member(CAROL, 'ban', ALICE));
    assertDenied(room.check(room.member(CAROL, 'knock')), /banned/);
  });
});

describe('malformed membership events', () => {
  test('missing membership, missing state key and unknown memberships are denied', () => {
    const room = standardRoom('10');
    assertDenied(room.check({ type: 'm.room.member', sender: BOB, state_key: BOB, content: {} }), /must have a "membership"/);
    assertDenied(room.check({ type: 'm.room.member', sender: BOB, content: { membership: 'join' } }), /must have a state key/);
    assertDenied(room.check(room.member(BOB, 'dance')), /Unknown membership "dance"/);
  });
});
