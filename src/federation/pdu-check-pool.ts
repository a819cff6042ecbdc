// Worker threads for the checks on receipt of large batches of PDUs. A join
// response carries the room's whole state and auth chain — ten thousand
// events in a big room — and hashing, redacting and verifying each one
// takes seconds of CPU; on the event loop that would stall every other
// request for that long. The pool spreads the batch over one worker per
// core and the event loop stays free. Workers start on first use and stop
// after a minute without work, so an idle server holds none.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { JsonValue } from '../core/types.js';
import type { KnownKeys, VerifyKey } from './event-signatures.js';
import type { PduReceipt } from './pdu-receipt.js';

/** What a worker is sent: one chunk of a batch, with the keys that signed it. */
export interface PduCheckRequest {
  id: number;
  roomVersion: string;
  roomId: string;
  history: boolean;
  pdus: JsonValue[];
  keys: [string, VerifyKey[]][];
}

export interface PduCheckResponse {
  id: number;
  receipts: PduReceipt[];
}

/** Events per message to a worker: small enough to share out evenly, large enough that messaging costs little. */
const CHUNK_SIZE = 250;
const IDLE_MS = 60_000;

interface PooledWorker {
  worker: Worker;
  pending: Map<number, { resolve: (r: PduReceipt[]) => void; reject: (e: Error) => void }>;
}

export class PduCheckPool {
  private readonly workers = new Map<number, PooledWorker>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly size = availableParallelism()) {}

  /** The receipts of `pdus`, in their order. Rejects if a worker fails (the caller may check in-thread instead). */
  async check(pdus: readonly JsonValue[], roomVersion: string, roomId: string, keys: KnownKeys, history = false): Promise<PduReceipt[]> {
    const wireKeys = [...keys].map(([server, byId]): [string, VerifyKey[]] => [server, [...byId.values()]]);
    const chunks: JsonValue[][] = [];
    for (let i = 0; i < pdus.length; i += CHUNK_SIZE) chunks.push(pdus.slice(i, i + CHUNK_SIZE));
    this.busy();
    try {
      const results = await Promise.all(chunks.map((chunk, i) => this.send(this.worker(i), { id: this.nextId++, roomVersion, roomId, history, pdus: chunk, keys: wireKeys })));
      return results.flat();
    } finally {
      this.idle();
    }
  }

  /** Stops every worker (at shutdown). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const stopping = [...this.workers.values()].map((w) => w.worker.terminate());
    this.workers.clear();
    await Promise.all(stopping);
  }

  /** Chunks go round-robin; a worker handles its messages in turn. */
  private worker(chunkIndex: number): PooledWorker {
    const slot = chunkIndex % this.size;
    return this.workers.get(slot) ?? this.start(slot);
  }

  private start(slot: number): PooledWorker {
    const pooled: PooledWorker = { worker: spawnWorker(), pending: new Map() };
    const fail = (err: Error): void => {
      for (const { reject } of pooled.pending.values()) reject(err);
      pooled.pending.clear();
      if (this.workers.get(slot) === pooled) this.workers.delete(slot);
    };
    pooled.worker.on('message', (response: PduCheckResponse) => {
      pooled.pending.get(response.id)?.resolve(response.receipts);
      pooled.pending.delete(response.id);
      if (pooled.pending.size === 0) pooled.worker.unref();
    });
    pooled.worker.on('error', fail);
    pooled.worker.on('exit', (code) => fail(new Error(`a PDU check worker stopped (exit code ${code})`)));
    // A worker keeps the process alive only while it has work.
    pooled.worker.unref();
    this.workers.set(slot, pooled);
    return pooled;
  }

  private send(pooled: PooledWorker, request: PduCheckRequest): Promise<PduReceipt[]> {
    return new Promise((resolve, reject) => {
      pooled.pending.set(request.id, { resolve, reject });
      pooled.worker.ref();
      pooled.worker.postMessage(request);
    });
  }

  private busy(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private idle(): void {
    if ([...this.workers.values()].some((w) => w.pending.size > 0)) return;
    this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
    this.idleTimer.unref();
  }
}

/**
 * Built, the worker is plain JavaScript beside this file. Run from the
 * TypeScript sources (tests, benchmarks under tsx), a worker does not
 * inherit tsx's loader on Node 20, so it registers tsx before importing.
 */
function spawnWorker(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(`./pdu-check-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSources) return new Worker(entry);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true });
}
