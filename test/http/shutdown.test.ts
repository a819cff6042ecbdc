// Shutdown: long polls are answered at once, requests in flight finish, and
// only then is the database closed — on both engines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
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

    test('a request in flight when the server stops is answered, and nothing new is accepted meanwhile', async () => {
      const hs = await startTestHomeserver({ engine });
      const user = await registerUser(hs.baseUrl, 'uploader');
      const port = Number(new URL(hs.baseUrl).port);
      const half = Buffer.alloc(32 * 1024, 'a');
      // An upload whose body arrives slowly: its handler runs across the shutdown.
      const upload = request({ host: '127.0.0.1', port, method: 'POST', path: '/_matrix/media/v3/upload?filename=slow.bin', agent: false, headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': 'application/octet-stream', 'Content-Length': half.length * 2 } });
      const answered = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        upload.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
        });
        upload.on('error', reject);
      });
      upload.write(half);
      await new Promise((r) => setTimeout(r, 100));
      const closing = hs.close();
      await new Promise((r) => setTimeout(r, 100));
      await assert.rejects(fetch(`${hs.baseUrl}/_matrix/client/versions`), 'a new connection is refused once stopping began');
      upload.end(half);
      const reply = await answered;
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.match(String(reply.body.content_uri), /^mxc:\/\//);
      await closing;
    });
  });
}
