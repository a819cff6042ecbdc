// Prometheus metrics on the metrics listener (enable_metrics): requests by
// route template and status, long polls waiting, the federation queue, event
// persist latency, the database pool and the process — on both engines, and
// never on the client listener.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { HomeserverConfig, ListenerConfig, ListenerResource } from '../../src/config/types.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { startHomeserver } from '../../src/server.js';
import { call, registerUser } from '../helpers/client.js';
import { createTestDatabaseTarget, ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, testHomeserverConfig, type TestHomeserver } from '../helpers/homeserver.js';

const METRICS_LISTENER: ListenerConfig = { port: 0, bindAddresses: ['127.0.0.1'], tls: false, type: 'metrics', resources: [], xForwarded: false };

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, one sample a line (label values here hold no commas or quotes). */
function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

function metricsUrl(hs: TestHomeserver): string {
  const listener = hs.server.listeners.find((l) => l.type === 'metrics');
  assert.ok(listener, 'the metrics listener is bound');
  return `http://127.0.0.1:${listener.port}/_synapse/metrics`;
}

async function scrape(hs: TestHomeserver): Promise<Sample[]> {
  const res = await fetch(metricsUrl(hs));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseSamples(await res.text());
}

async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const engine of ENGINES) {
  describe(`metrics (${engine})`, () => {
    test('requests are counted by route template and status, with their time; unknown paths under one name', async () => {
      const hs = await startTestHomeserver({ engine, config: { enableMetrics: true }, extraListeners: [METRICS_LISTENER] });
      try {
        const alice = await registerUser(hs.baseUrl, 'alice');
        const room = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', {}, alice.accessToken);
        const roomId = room.body.room_id as string;
        for (const txn of ['t1', 't2']) {
          const sent = await call(hs.baseUrl, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, { msgtype: 'm.text', body: txn }, alice.accessToken);
          assert.equal(sent.status, 200);
        }
        assert.equal((await call(hs.baseUrl, 'GET', '/_matrix/client/v3/no/such/endpoint/42')).status, 404);

        const samples = await scrape(hs);
        const send = { method: 'PUT', servlet: '/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}', code: '200' };
        assert.equal(valueOf(samples, 'synapse_http_server_responses_total', send), 2);
        assert.equal(valueOf(samples, 'synapse_http_server_response_time_seconds_count', send), 2);
        assert.equal(valueOf(samples, 'synapse_http_server_responses_total', { method: 'GET', servlet: 'unrouted', code: '404' }), 1);
        assert.ok(!samples.some((s) => Object.values(s.labels).some((v) => v.includes(roomId) || v.includes('42'))), 'no label holds an ID or a path a client made up');
        // createRoom's events and the two messages, each batch timed.
        assert.ok((valueOf(samples, 'axon_events_persisted_total') ?? 0) >= 7);
        assert.ok((valueOf(samples, 'axon_event_persist_duration_seconds_count') ?? 0) >= 3);
        assert.ok(valueOf(samples, 'process_cpu_user_seconds_total') !== undefined, 'process metrics are exported');
      } finally {
        await hs.close();
      }
    });

    test('long polls waiting, the federation queue and the database pool are read at scrape time', async () => {
      const hs = await startTestHomeserver({ engine, config: { enableMetrics: true }, extraListeners: [METRICS_LISTENER] });
      try {
        const bob = await registerUser(hs.baseUrl, 'bob');
        const first = await call(hs.baseUrl, 'GET', '/_matrix/client/v3/sync?timeout=0', undefined, bob.accessToken);
        assert.equal(valueOf(await scrape(hs), 'synapse_notifier_listeners'), 0);
        const since = encodeURIComponent(first.body.next_batch as string);
        const poll = call(hs.baseUrl, 'GET', `/_matrix/client/v3/sync?timeout=20000&since=${since}`, undefined, bob.accessToken);
        await eventually('the long poll to be counted', async () => valueOf(await scrape(hs), 'synapse_notifier_listeners') === 1);

        // A server that cannot be reached keeps what is queued for it.
        await hs.server.services.roomFederation.sender.queueEdu({ edu_type: 'm.typing', content: {} }, ['unreachable.invalid']);
        const samples = await scrape(hs);
        assert.equal(valueOf(samples, 'synapse_federation_transaction_queue_pending_edus'), 1);
        assert.equal(valueOf(samples, 'synapse_federation_transaction_queue_pending_pdus'), 0);

        // What the pool gauges mean is tested with the engines (test/storage/database.test.ts); here, that they are exported.
        const inUse = valueOf(samples, 'axon_database_pool_connections', { state: 'in_use' }) ?? -1;
        const idle = valueOf(samples, 'axon_database_pool_connections', { state: 'idle' }) ?? -1;
        assert.ok(inUse >= 0 && idle >= 0 && inUse + idle >= 1, `in_use ${inUse}, idle ${idle}`);
        assert.ok(Number.isInteger(valueOf(samples, 'axon_database_pool_waiting')));

        await hs.close();
        assert.equal((await poll).status, 200);
      } finally {
        await hs.close().catch(() => undefined);
      }
    });
  });
}

describe('the metrics listener', () => {
  test('serves only /_synapse/metrics, and the client listener does not serve it', async () => {
    const hs = await startTestHomeserver({ config: { enableMetrics: true }, extraListeners: [METRICS_LISTENER] });
    try {
      const onClient = await call(hs.baseUrl, 'GET', '/_synapse/metrics');
      assert.deepEqual([onClient.status, onClient.body.errcode], [404, 'M_UNRECOGNIZED']);
      const elsewhere = await fetch(metricsUrl(hs).replace('/_synapse/metrics', '/_matrix/client/versions'));
      assert.equal(elsewhere.status, 404);
      assert.equal(await elsewhere.text(), 'not found: metrics are at /_synapse/metrics\n');
    } finally {
      await hs.close();
    }
  });

  test('a metrics listener without enable_metrics, enable_metrics without one, and the metrics resource on an http listener are each reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-metrics-'));
    const database = await createTestDatabaseTarget('sqlite');
    const base = testHomeserverConfig({ dir, database: database.target, port: 0, serverName: 'metrics.test' });
    const warningsOf = async (config: HomeserverConfig): Promise<{ types: string[]; warnings: string[] }> => {
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()).msg as string), done()) }));
      const hs = await startHomeserver({ config, signingKeys: [generateSigningKey()], logger });
      await hs.close();
      return { types: hs.listeners.map((l) => l.type), warnings: lines };
    };
    try {
      assert.deepEqual(await warningsOf({ ...base, listeners: [...base.listeners, METRICS_LISTENER] }), {
        types: ['http'],
        warnings: ['a listener of type metrics is configured but enable_metrics is not true; metrics are not served'],
      });
      assert.deepEqual(await warningsOf({ ...base, enableMetrics: true }), {
        types: ['http'],
        warnings: ['enable_metrics is true but no listener has type: metrics; add one (e.g. port 9000 on 127.0.0.1) to serve /_synapse/metrics'],
      });
      const withResource = { ...base.listeners[0]!, resources: [{ names: ['client', 'metrics'] as ListenerResource[], compress: false }] };
      assert.deepEqual(await warningsOf({ ...base, enableMetrics: true, listeners: [withResource, METRICS_LISTENER] }), {
        types: ['http', 'metrics'],
        warnings: ['the metrics resource of an http listener is not served; Axon serves metrics only on a listener of type: metrics (with enable_metrics: true)'],
      });
    } finally {
      await database.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
