import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '../../src/core/errors.js';
import {
  optionalEnum,
  optionalInteger,
  optionalString,
  optionalStringArray,
  queryBoolean,
  queryInteger,
  requireObject,
  requireObjectField,
  requireQueryString,
  requireString,
} from '../../src/http/validate.js';

function rejects(fn: () => unknown, errcode: string, mentions: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MatrixError);
    assert.equal(err.status, 400);
    assert.equal(err.errcode, errcode);
    assert.match(err.message, new RegExp(mentions));
    return true;
  });
}

describe('body validation helpers', () => {
  test('requireObject: a missing body is {}; a non-object is M_BAD_JSON', () => {
    assert.deepEqual(requireObject(undefined), {});
    assert.deepEqual(requireObject({ a: 1 }), { a: 1 });
    rejects(() => requireObject([1]), 'M_BAD_JSON', 'JSON object');
    rejects(() => requireObject('x'), 'M_BAD_JSON', 'JSON object');
    rejects(() => requireObject(null), 'M_BAD_JSON', 'JSON object');
  });

  test('strings: missing is M_MISSING_PARAM, wrong type is M_BAD_JSON, both naming the field', () => {
    assert.equal(requireString({ user: 'a' }, 'user'), 'a');
    assert.equal(optionalString({ user: null }, 'user'), undefined);
    rejects(() => requireString({}, 'password'), 'M_MISSING_PARAM', "'password'");
    rejects(() => requireString({ password: 5 }, 'password'), 'M_BAD_JSON', "'password' must be a string, not a number");
  });

  test('integers reject fractions and out-of-range values', () => {
    assert.equal(optionalInteger({ n: 3 }, 'n'), 3);
    rejects(() => optionalInteger({ n: 1.5 }, 'n'), 'M_BAD_JSON', "'n' must be an integer");
    rejects(() => optionalInteger({ n: 0 }, 'n', { min: 1 }), 'M_INVALID_PARAM', 'at least 1');
  });

  test('objects, string arrays and enums', () => {
    assert.deepEqual(requireObjectField({ auth: { type: 'x' } }, 'auth'), { type: 'x' });
    rejects(() => requireObjectField({ auth: [] }, 'auth'), 'M_BAD_JSON', "'auth' must be an object, not an array");
    rejects(() => optionalStringArray({ ids: ['a', 2] }, 'ids'), 'M_BAD_JSON', "'ids\\[1\\]'");
    assert.equal(optionalEnum({ kind: 'user' }, 'kind', ['user', 'guest'] as const), 'user');
    rejects(() => optionalEnum({ kind: 'bot' }, 'kind', ['user', 'guest'] as const), 'M_INVALID_PARAM', "'kind' must be one of");
  });

  test('fields inherited from Object.prototype do not count as present', () => {
    rejects(() => requireString({}, 'toString'), 'M_MISSING_PARAM', "'toString'");
  });
});

describe('query validation helpers', () => {
  test('integers, booleans and required strings', () => {
    const q = new URLSearchParams('limit=10&bad=1e3&full=true&nope=yes');
    assert.equal(queryInteger(q, 'limit'), 10);
    assert.equal(queryInteger(q, 'absent'), undefined);
    rejects(() => queryInteger(q, 'bad'), 'M_INVALID_PARAM', "'bad'");
    assert.equal(queryBoolean(q, 'full'), true);
    rejects(() => queryBoolean(q, 'nope'), 'M_INVALID_PARAM', "'nope'");
    rejects(() => requireQueryString(q, 'from'), 'M_MISSING_PARAM', "'from'");
  });
});
