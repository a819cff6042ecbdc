// The checks on receipt of a large batch of PDUs (a join response) run in
// worker threads: the outcome of every PDU — accepted, redacted for a bad
// content hash, dropped for a bad signature or format — is the same as
// checking it on the event loop, in the batch's order, and the event handler
// sends a batch to the pool only when it is large. Room versions 10 and 12.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion } from '../../src/core/room-versions.js';
import type { JsonObject, JsonValue } from '../../src/core/types.js';
import { DroppedPduError, FederatedEventHandler } from '../../src/federation/inbound/event-handler.js';
import { PduCheckPool } from '../../src/federation/pdu-check-pool.js';
import { checkReceivedPdu } from '../../src/federation/pdu-receipt.js';
import type { EventPipeline } from '../../src/services/rooms/event-pipeline.js';
import { FakeFetcher, FakeRemoteServer, fakeSigningKeys } from '../helpers/remote-events.js';

const BOB = '@bob:remote.test';

for (const version of ['10', '12']) {
  describe(`PDU check pool, room version ${version}`, () => {
    const rules = roomVersion(version)!;
    // Version 12 room IDs are the create event's hash, with no server name.
    const ROOM = version === '12' ? `!${'b'.repeat(43)}` : '!batch:remote.test';
    const remote = new FakeRemoteServer('remote.test');
    const impostor = new FakeRemoteServer('remote.test');
    const pool = new PduCheckPool(2);
    after(() => pool.close());

    /** `count` messages, with a forged, a tampered and a malformed one among them. */
    const batch = (count: number): JsonValue[] => {
      const pdus: JsonValue[] = [];
      for (let i = 0; i < count; i++) {
        const made = (i === 7 ? impostor : remote).event(rules, ROOM, { type: 'm.room.message', sender: BOB, content: { body: `m${i}` }, prev: [], auth: [] });
        const pdu = made.pdu as unknown as JsonObject;
        if (i === 11) pdu['content'] = { body: 'tampered after signing' };
        if (i === 13) delete pdu['sender'];
        pdus.push(pdu);
      }
      return pdus;
    };

    test('each outcome matches the check on the event loop, in order', async () => {
      const pdus = batch(600);
      const keys = await fakeSigningKeys(remote)(pdus as JsonObject[], rules);
      const pooled = await pool.check(pdus, version, ROOM, keys);
      const inThread = pdus.map((pdu) => checkReceivedPdu(pdu, rules, keys, { roomId: ROOM }));
      assert.deepEqual(pooled, inThread);
      assert.equal(pooled.filter((r) => r.ok && !r.redacted).length, 597);
      assert.deepEqual(pooled[7], { ...pooled[7], ok: false, failure: 'signature' });
      assert.deepEqual(pooled[11], { ...pooled[11], ok: true, redacted: true });
      assert.deepEqual(pooled[13], { ...pooled[13], ok: false, failure: 'format' });
      assert.equal(pooled[11]!.ok && pooled[11]!.received.event.content['body'], undefined);
    });

    test('the event handler checks a large batch in the pool and a small one on the event loop', async () => {
      const used: number[] = [];
      const spy = Object.assign(Object.create(pool) as PduCheckPool, {
        check: (...args: Parameters<PduCheckPool['check']>) => {
          used.push(args[0].length);
          return pool.check(...args);
        },
      });
      const handler = new FederatedEventHandler({
        pipeline: {} as EventPipeline,
        fetcher: new FakeFetcher(remote),
        signingKeys: fakeSigningKeys(remote),
        checkPool: spy,
        log: () => undefined,
      });
      for (const size of [20, 400]) {
        const outcomes = await handler.checkPdus(rules, ROOM, batch(size));
        assert.equal(outcomes.length, size);
        assert.ok(outcomes[7] instanceof DroppedPduError && outcomes[7].reason === 'signature');
        assert.ok(outcomes[13] instanceof DroppedPduError && outcomes[13].reason === 'format');
        assert.equal(outcomes.filter((o) => !(o instanceof DroppedPduError)).length, size - 2);
      }
      assert.deepEqual(used, [400]);
    });

    test('a batch whose workers fail is checked on the event loop instead', async () => {
      const broken = Object.assign(Object.create(pool) as PduCheckPool, { check: () => Promise.reject(new Error('worker crashed')) });
      const logged: string[] = [];
      const handler = new FederatedEventHandler({
        pipeline: {} as EventPipeline,
        fetcher: new FakeFetcher(remote),
        signingKeys: fakeSigningKeys(remote),
        checkPool: broken,
        log: (message) => logged.push(message),
      });
      const outcomes = await handler.checkPdus(rules, ROOM, batch(300));
      assert.equal(outcomes.filter((o) => !(o instanceof DroppedPduError)).length, 298);
      assert.match(logged.join('\n'), /workers failed/);
    });
  });
}
