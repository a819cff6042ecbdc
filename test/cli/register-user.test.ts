import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientUrlFromConfig, registrationMac } from '../../src/cli/register-user.js';
import { parseConfig } from '../../src/config/load.js';

test('registrationMac matches openssl on known vectors', () => {
  // printf 'f00ba7\0alice\0correct horse\0notadmin' | openssl dgst -sha1 -hmac 's3cret'
  assert.equal(registrationMac('s3cret', 'f00ba7', 'alice', 'correct horse', false), 'c7ca103d681a3328df18b4eab1d24a7608f09b15');
  // printf 'f00ba7\0bob\0pw\0admin' | openssl dgst -sha1 -hmac 's3cret'
  assert.equal(registrationMac('s3cret', 'f00ba7', 'bob', 'pw', true), 'bfa55ab95d487b5a118560a437920cbcb80ff7dc');
});

function urlFor(listeners: string): string | undefined {
  return clientUrlFromConfig(parseConfig(`server_name: example.org\nlisteners:\n${listeners}`, '/etc/axon/homeserver.yaml', { warn: () => {} }));
}

test('the client listener gives the URL to dial, preferring plain HTTP and IPv4 loopback', () => {
  // The seed's listeners: client on 8008 (::1 and 127.0.0.1), federation over TLS on 8448.
  assert.equal(
    urlFor(`  - port: 8448\n    tls: true\n    resources: [{names: [federation]}]\n    bind_addresses: ['0.0.0.0']\n  - port: 8008\n    bind_addresses: ['::1', '127.0.0.1']\n    resources: [{names: [client, federation]}]\ntls_certificate_path: a\ntls_private_key_path: b\n`),
    'http://127.0.0.1:8008',
  );
  assert.equal(urlFor(`  - port: 8008\n    bind_addresses: ['::']\n    resources: [{names: [client]}]\n`), 'http://[::1]:8008');
  assert.equal(urlFor(`  - port: 8008\n    bind_addresses: ['0.0.0.0']\n    resources: [{names: [client]}]\n`), 'http://127.0.0.1:8008');
  assert.equal(urlFor(`  - port: 9000\n    bind_addresses: ['10.1.2.3']\n    resources: [{names: [client]}]\n`), 'http://10.1.2.3:9000');
  assert.equal(urlFor(`  - port: 9000\n    bind_addresses: ['fd00::5']\n    resources: [{names: [client]}]\n`), 'http://[fd00::5]:9000');
  assert.equal(urlFor(`  - port: 8448\n    resources: [{names: [federation]}]\n`), undefined);
});
