import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isValidEventId,
  isValidLocalpart,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseRoomAlias,
  parseRoomId,
  parseServerName,
  parseUserId,
  serverNameOfUserId,
  parseContentUri,
} from '../../src/core/identifiers.js';
import { roomVersion, type RoomVersionRules } from '../../src/core/room-versions.js';

function rules(id: string): RoomVersionRules {
  const found = roomVersion(id);
  assert.ok(found);
  return found;
}

const HASH_URLSAFE = 'Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg'; // from rooms/fragments/v4-event-ids.md
const HASH_STANDARD = 'CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o'; // from rooms/v3.md
const HASH_WITH_SLASH = 'CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6/';

describe('server names', () => {
  test('the examples of appendices.md', () => {
    assert.deepEqual(parseServerName('matrix.org'), { host: 'matrix.org' });
    assert.deepEqual(parseServerName('matrix.org:8888'), { host: 'matrix.org', port: 8888 });
    assert.deepEqual(parseServerName('1.2.3.4'), { host: '1.2.3.4' });
    assert.deepEqual(parseServerName('1.2.3.4:1234'), { host: '1.2.3.4', port: 1234 });
    assert.deepEqual(parseServerName('[1234:5678::abcd]'), { host: '[1234:5678::abcd]' });
    assert.deepEqual(parseServerName('[1234:5678::abcd]:5678'), { host: '[1234:5678::abcd]', port: 5678 });
  });

  test('accepts other valid forms', () => {
    for (const ok of ['localhost', 'a', 'MATRIX.org', 'my-server.example', 'x.y:1', 'x.y:65535', '[::1]', '[::ffff:1.2.3.4]:80', '255.255.255.255', 'a'.repeat(255)]) {
      assert.ok(isValidServerName(ok), ok);
    }
  });

  test('keeps case (server names are case-sensitive)', () => {
    assert.deepEqual(parseServerName('Matrix.ORG'), { host: 'Matrix.ORG' });
  });

  test('rejects what the grammar does not allow', () => {
    const bad = [
      '',
      'matrix.org:',
      'matrix.org:0',
      'matrix.org:65536',
      'matrix.org:123456',
      'matrix.org:80a',
      'matrix.org:-1',
      'matrix..org',
      '.matrix.org',
      'matrix.org.',
      'matrix_org',
      'mätrix.org',
      'matrix org',
      '1.2.3.256',
      '1.2.3.4:99999',
      '[1234:5678::abcd',
      '[1::2::3]',
      '[fe80::1%eth0]',
      '[::1]x',
      '[::1]:',
      '[]',
      '::1',
      '1234:5678::abcd',
      'a'.repeat(256),
    ];
    for (const s of bad) assert.equal(parseServerName(s), null, s);
  });
});

describe('user IDs', () => {
  test('parse into localpart and server name', () => {
    assert.deepEqual(parseUserId('@alice:example.org'), { localpart: 'alice', serverName: 'example.org' });
    assert.deepEqual(parseUserId('@a.b_c=d-e/f+g:[::1]:8448'), { localpart: 'a.b_c=d-e/f+g', serverName: '[::1]:8448' });
    assert.equal(serverNameOfUserId('@alice:example.org:8448'), 'example.org:8448');
    assert.equal(serverNameOfUserId('alice:example.org'), null);
  });

  test('registration localparts: a–z 0–9 . _ = - / + only, non-empty', () => {
    for (const ok of ['alice', 'a.b_c=d-e/f+g', '0']) assert.ok(isValidLocalpart(ok), ok);
    for (const bad of ['Alice', '', 'al ice', 'al:ice', 'ålice', 'a*b', 'a#b']) assert.ok(!isValidLocalpart(bad), bad);
  });

  test('historical localparts are accepted for received IDs, not for new ones', () => {
    for (const historical of ['@Alice:example.org', '@:example.org', '@ål ice\u0001:example.org', '@😀:example.org']) {
      assert.ok(isValidUserId(historical), historical);
      assert.ok(isValidUserId(historical, { historical: true }), historical);
      assert.ok(!isValidUserId(historical, { historical: false }), historical);
      assert.equal(parseUserId(historical, { historical: false }), null);
    }
    assert.ok(isValidLocalpart('Alice', { historical: true }));
  });

  test('historical localparts still exclude NUL and lone surrogates', () => {
    assert.ok(!isValidUserId('@a\u0000b:example.org'));
    assert.ok(!isValidUserId('@a\uD800:example.org'));
  });

  test('at most 255 bytes including sigil and domain', () => {
    const domain = ':example.org';
    const fits = `@${'a'.repeat(255 - 1 - domain.length)}${domain}`;
    assert.equal(Buffer.byteLength(fits), 255);
    assert.ok(isValidUserId(fits, { historical: false }));
    assert.ok(!isValidUserId(`@a${fits.slice(1)}`));
    // Bytes, not characters: 'é' is two bytes in UTF-8.
    assert.ok(!isValidUserId(`@${'é'.repeat(122)}${domain}`));
  });

  test('rejects a missing sigil, separator or bad server name', () => {
    for (const bad of ['alice:example.org', '@alice', '@alice:', '@alice:bad_server', '#alice:example.org', '@alice:example.org:0']) {
      assert.equal(parseUserId(bad), null, bad);
    }
  });
});

describe('room IDs', () => {
  test('v1–v11 form: !opaque:domain', () => {
    assert.deepEqual(parseRoomId('!abc:example.org'), { opaque: 'abc', serverName: 'example.org' });
    assert.deepEqual(parseRoomId('!ABC123:example.org:8448', rules('11')), { opaque: 'ABC123', serverName: 'example.org:8448' });
    assert.equal(parseRoomId('!abc:example.org', rules('12')), null);
    assert.equal(parseRoomId('!a\u0000b:example.org'), null);
    assert.equal(parseRoomId('!abc:not_a_server'), null);
  });

  test('v12 form: ! + 43 URL-safe Base64 characters', () => {
    assert.deepEqual(parseRoomId(`!${HASH_URLSAFE}`), { opaque: HASH_URLSAFE, serverName: null });
    assert.ok(isValidRoomId(`!${HASH_URLSAFE}`, rules('12')));
    assert.ok(!isValidRoomId(`!${HASH_URLSAFE}`, rules('11')));
    assert.ok(!isValidRoomId(`!${HASH_WITH_SLASH}`, rules('12')));
    assert.ok(!isValidRoomId(`!${HASH_URLSAFE.slice(1)}`));
    assert.ok(!isValidRoomId(`!${HASH_URLSAFE}A`));
  });

  test('at most 255 bytes', () => {
    const domain = ':example.org';
    assert.ok(isValidRoomId(`!${'a'.repeat(254 - domain.length)}${domain}`));
    assert.ok(!isValidRoomId(`!${'a'.repeat(255 - domain.length)}${domain}`));
  });

  test('needs the ! sigil', () => {
    assert.equal(parseRoomId(`$${HASH_URLSAFE}`), null);
    assert.equal(parseRoomId('abc:example.org'), null);
  });
});

describe('room aliases', () => {
  test('#localpart:domain, any code points but : and NUL in the localpart', () => {
    assert.deepEqual(parseRoomAlias('#room:example.org'), { localpart: 'room', serverName: 'example.org' });
    assert.deepEqual(parseRoomAlias('#Räum 1:example.org'), { localpart: 'Räum 1', serverName: 'example.org' });
    assert.ok(!isValidRoomAlias('#a\u0000:example.org'));
    assert.ok(!isValidRoomAlias('room:example.org'));
    assert.ok(!isValidRoomAlias('#room'));
    assert.ok(!isValidRoomAlias(`#${'r'.repeat(250)}:example.org`));
  });
});

describe('event IDs', () => {
  test('v1/v2: $opaque:domain', () => {
    assert.ok(isValidEventId('$abc:example.org', rules('1')));
    assert.ok(isValidEventId('$abc:example.org'));
    assert.ok(!isValidEventId('$:example.org', rules('2')));
    assert.ok(!isValidEventId('$abc', rules('2')));
    assert.ok(!isValidEventId(`$${HASH_URLSAFE}`, rules('2')));
  });

  test('v3: $ + 43 standard Base64 characters', () => {
    assert.ok(isValidEventId(`$${HASH_STANDARD}`, rules('3')));
    assert.ok(isValidEventId(`$${HASH_WITH_SLASH}`, rules('3')));
    assert.ok(!isValidEventId(`$${HASH_URLSAFE}`, rules('3')));
    assert.ok(!isValidEventId('$abc:example.org', rules('3')));
  });

  test('v4+: $ + 43 URL-safe Base64 characters', () => {
    for (const id of ['4', '11', '12']) {
      assert.ok(isValidEventId(`$${HASH_URLSAFE}`, rules(id)));
      assert.ok(!isValidEventId(`$${HASH_WITH_SLASH}`, rules(id)));
      assert.ok(!isValidEventId(`$${HASH_URLSAFE}=`, rules(id)));
    }
  });

  test('without a room version, any of the formats', () => {
    for (const id of [`$${HASH_STANDARD}`, `$${HASH_WITH_SLASH}`, `$${HASH_URLSAFE}`, '$x:example.org']) assert.ok(isValidEventId(id), id);
    for (const id of ['$short', `!${HASH_URLSAFE}`, '', '$', `$${'a'.repeat(300)}:example.org`]) assert.ok(!isValidEventId(id), id);
  });
});

describe('content URIs', () => {
  test('parse into server name and media ID', () => {
    assert.deepEqual(parseContentUri('mxc://example.org/SEsfnsuifSDFSSEF'), { serverName: 'example.org', mediaId: 'SEsfnsuifSDFSSEF' });
    assert.deepEqual(parseContentUri('mxc://[::1]:8448/a_b-c'), { serverName: '[::1]:8448', mediaId: 'a_b-c' });
  });

  test('refuse other schemes, bad server names and media IDs outside the grammar', () => {
    for (const uri of ['https://example.org/abc', 'mxc://example.org', 'mxc://example.org/', 'mxc://exa mple.org/abc', 'mxc://example.org/a/b', 'mxc://example.org/../x', 'mxc://example.org/a.b']) {
      assert.equal(parseContentUri(uri), null, uri);
    }
  });
});
