// m.room.server_acl evaluation, in the order the event's definition gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAclAllows } from '../../src/core/server-acl.js';

test('no ACL allows everyone', () => {
  assert.ok(serverAclAllows(undefined, 'anyone.example'));
});

test('deny beats allow; no allow entry matching denies', () => {
  const acl = { allow: ['*'], deny: ['evil.com', '*.evil.com'] };
  assert.ok(serverAclAllows(acl, 'good.org'));
  assert.ok(!serverAclAllows(acl, 'evil.com'));
  assert.ok(!serverAclAllows(acl, 'sub.evil.com'));
  assert.ok(!serverAclAllows({ deny: [] }, 'good.org'), 'without an allow list nobody is allowed');
  assert.ok(!serverAclAllows({ allow: ['*.org'] }, 'good.com'));
});

test('the port never counts, and patterns ignore case', () => {
  const acl = { allow: ['*'], deny: ['evil.com'] };
  assert.ok(!serverAclAllows(acl, 'evil.com:8448'));
  assert.ok(!serverAclAllows(acl, 'EVIL.com'));
  assert.ok(serverAclAllows({ allow: ['hs?.test'] }, 'hs1.test:8448'));
});

test('IP literals are refused only when allow_ip_literals is false', () => {
  assert.ok(serverAclAllows({ allow: ['*'] }, '10.0.0.1:8448'));
  assert.ok(!serverAclAllows({ allow: ['*'], allow_ip_literals: false }, '10.0.0.1:8448'));
  assert.ok(!serverAclAllows({ allow: ['*'], allow_ip_literals: false }, '[::1]:8448'));
  assert.ok(serverAclAllows({ allow: ['*'], allow_ip_literals: 'no' }, '10.0.0.1'), 'a non-boolean means the default, true');
});

test('entries that are not strings are ignored', () => {
  assert.ok(serverAclAllows({ allow: [7, '*'], deny: [null] }, 'good.org'));
});
