// Shutdown: long polls are answered at once, requests in flight finish, and
// only then is the database closed — on both engines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightRequests } from '../../src/http/server.js';
import { startTestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

describe('InFlightRequests', () => {
  test('drain waits for tracked work, including work tracked while draining', async () => {
    const inFlight = new InFlightRequests();
    const order: string[] = [];
    inFlight.track(
      new Promise<void>((resolve) =>
        setTimeout(() => {
          order.push('first');
          inFlight.track(new Promise<void>((r) => setTimeout(() => (order.push('second'), r()), 20)));
          resolve();
        }, 20),
      ),
    );
    await inFlight.drain();
    assert.deepEqual(order, ['first', 'second']);
  });
});

for (const engine of ENGINES) {
  describe(`shutdown (${engine})`, () => {
    test('a long-polling /sync is answered when the server stops, and stopping does not wait for its timeout', async () => {
      const hs = await startTestHomeserver({ engine });
      const user = await registerUser(hs.baseUrl, 'poller');
      const first = await call(hs.baseUrl, 'GET', '/_matrix/client/v3/sync?timeout=0', undefined, user.accessToken);
      const since = encodeURIComponent(first.body.next_batch as string);
      const poll = call(hs.baseUrl, 'GET', `/_matrix/client/v3/sync?timeout=30000&since=${since}`, undefined, user.accessToken);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await hs.close();
      const answered = await poll;
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.equal(typeof answered.body.next_batch, 'string');
      assert.ok(Date.now() - started < 3000, 'closing did not wait for the 30 s poll');
    });
  });
}
