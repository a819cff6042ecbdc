import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue } from '../../src/core/types.js';
import { parsePushActions, parsePushConditions } from '../../src/core/push-rules/index.js';

describe('parsePushActions', () => {
  test('accepts action names, historical ones included, and set_tweak objects', () => {
    const actions: JsonValue[] = ['notify', 'dont_notify', 'coalesce', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }];
    assert.deepEqual(parsePushActions(actions), { ok: true, value: actions });
    assert.deepEqual(parsePushActions([]), { ok: true, value: [] });
  });

  test('names what is wrong', () => {
    assert.deepEqual(parsePushActions('notify'), { ok: false, error: '"actions" must be an array.' });
    assert.deepEqual(parsePushActions(undefined), { ok: false, error: '"actions" must be an array.' });
    assert.match(rejection(parsePushActions(['notify', 'beep'])), /actions\[1\] is an unknown action: "beep"/);
    assert.match(rejection(parsePushActions([{ set_tweak: 3 }])), /actions\[0\] .*"set_tweak"/);
    assert.match(rejection(parsePushActions([{ sound: 'x' }])), /actions\[0\]/);
    assert.match(rejection(parsePushActions([null])), /actions\[0\]/);
  });
});

describe('parsePushConditions', () => {
  test('keeps conditions with a string kind, unknown kinds included', () => {
    const conditions: JsonValue[] = [
      { kind: 'event_match', key: 'type', pattern: 'm.room.message' },
      { kind: 'org.example.future', anything: [1] },
    ];
    assert.deepEqual(parsePushConditions(conditions), { ok: true, value: conditions });
  });

  test('names what is wrong', () => {
    assert.match(rejection(parsePushConditions({})), /"conditions" must be an array/);
    assert.match(rejection(parsePushConditions([{ kind: 'event_match' }, { key: 'x' }])), /conditions\[1\]/);
    assert.match(rejection(parsePushConditions(['event_match'])), /conditions\[0\]/);
  });
});

function rejection(result: { ok: true } | { ok: false; error: string }): string {
  assert.equal(result.ok, false);
  return result.ok ? '' : result.error;
}
