// Prometheus metrics for operators, served at /_synapse/metrics on Synapse's
// metrics listener (`listeners: - type: metrics` with `enable_metrics: true`),
// never on the client or federation listeners. Names follow Synapse's where
// Synapse has the same measure, so its dashboards read them; measures only
// Axon has are prefixed `axon_`. Labels are bounded: requests are counted by
// route template (`/_matrix/client/v3/rooms/{roomId}/send/...`), never by the
// path a client sent.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutboxKind } from '../storage/federation-outbox.js';
import type { PoolStats } from '../storage/database.js';

export const METRICS_PATH = '/_synapse/metrics';

/** What the gauges read when Prometheus scrapes: nothing is counted on the hot path for them. */
export interface MetricSources {
  /** Long polls (/sync, /events) waiting for news. */
  syncWaiters: () => number;
  /** PDUs and EDUs queued for other servers. */
  federationQueue: () => Promise<Record<OutboxKind, number>>;
  databasePool: () => PoolStats;
}

/** Told of every request the edge answered; `servlet` is its route template or a fixed name. */
export interface RequestObserver {
  observeRequest(method: string, servlet: string, status: number, seconds: number): void;
}

type RequestLabels = Record<'method' | 'servlet' | 'code', string>;

/**
 * One label set of the request metrics. The count is kept here and handed to
 * prom-client at scrape time, since its own increment re-derives the label
 * key on every call; the histogram has no such way in, so it is observed
 * through a child made once.
 */
interface RequestSeries {
  labels: RequestLabels;
  responses: number;
  time: Histogram.Internal<'method' | 'servlet' | 'code'>;
}

export class HomeserverMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly responseTime: Histogram<'method' | 'servlet' | 'code'>;
  private readonly persistTime: Histogram;
  private readonly persisted: Counter;
  /** servlet → method → status → the children of that label set, so a request only increments. */
  private readonly series = new Map<string, Map<string, Map<number, RequestSeries>>>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Synapse counts responses by (method, code) and by (method, servlet); one counter with all three sums to either.
    const allSeries = () => [...this.series.values()].flatMap((byMethod) => [...byMethod.values()].flatMap((byStatus) => [...byStatus.values()]));
    new Counter({
      name: 'synapse_http_server_responses_total',
      help: 'Responses sent, by method, route template and status code',
      labelNames: ['method', 'servlet', 'code'],
      registers,
      collect() {
        this.reset();
        for (const series of allSeries()) this.inc(series.labels, series.responses);
      },
    });
    this.responseTime = new Histogram({
      name: 'synapse_http_server_response_time_seconds',
      help: 'Time from request to response, by method, route template and status code',
      labelNames: ['method', 'servlet', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.persistTime = new Histogram({
      name: 'axon_event_persist_duration_seconds',
      help: 'Time to commit a batch of events with their state and derived data',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.persisted = new Counter({ name: 'axon_events_persisted_total', help: 'Events committed in those batches (local and received)', registers });
    new Gauge({ name: 'synapse_notifier_listeners', help: 'Long-polling /sync and /events requests waiting for news', registers, collect() { this.set(sources.syncWaiters()); } });
    const queueGauge = (kind: OutboxKind) =>
      new Gauge({
        name: `synapse_federation_transaction_queue_pending_${kind}s`,
        help: `${kind.toUpperCase()}s queued for other servers, over all destinations`,
        registers,
        async collect() {
          this.set((await sources.federationQueue())[kind]);
        },
      });
    queueGauge('pdu');
    queueGauge('edu');
    new Gauge({
      name: 'axon_database_pool_connections',
      help: 'Database connections open, by state (in_use, idle)',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = sources.databasePool();
        this.set({ state: 'in_use' }, pool.total - pool.idle);
        this.set({ state: 'idle' }, pool.idle);
      },
    });
    new Gauge({ name: 'axon_database_pool_waiting', help: 'Callers waiting for a database connection (SQLite: for the writer)', registers, collect() { this.set(sources.databasePool().waiting); } });
  }

  observeRequest(method: string, servlet: string, status: number, seconds: number): void {
    const series = this.requestSeries(method, servlet, status);
    series.responses++;
    series.time.observe(seconds);
  }

  observeCommit(seconds: number, events: number): void {
    this.persistTime.observe(seconds);
    this.persisted.inc(events);
  }

  private requestSeries(method: string, servlet: string, status: number): RequestSeries {
    let byMethod = this.series.get(servlet);
    if (!byMethod) this.series.set(servlet, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      const labels = { method, servlet, code: String(status) };
      series = { labels, responses: 0, time: this.responseTime.labels(labels) };
      byStatus.set(status, series);
    }
    return series;
  }
}

/** The metrics listener's handler: GET /_synapse/metrics in Prometheus' text format, 404 elsewhere. */
export function metricsRequestListener(metrics: HomeserverMetrics, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`not found: metrics are at ${METRICS_PATH}\n`);
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        logger.error({ err }, 'collecting metrics failed');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`collecting metrics failed: ${(err as Error).message}\n`);
      },
    );
  };
}
