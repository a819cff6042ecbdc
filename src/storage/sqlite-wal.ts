// Keeping SQLite's write-ahead log durable and short without stalling the
// event loop. better-sqlite3 runs every statement on the calling thread, so
// the disk waits SQLite itself would do (an fsync per COMMIT with
// synchronous=FULL, the copy and fsyncs of an automatic checkpoint) would
// stop every request in the process while they last. Instead:
// - WalFlusher: transactions commit with synchronous=NORMAL (no fsync) and
//   their caller then waits for an fdatasync of the WAL on libuv's thread
//   pool before anything is acknowledged — the same guarantee as FULL, with
//   the event loop free meanwhile, and commits made while one sync runs
//   share the next (group commit).
// - WalCheckpointer: PASSIVE checkpoints on a worker thread's own
//   connection, which never block the writer or readers; the WAL is reused
//   from its start once it has been copied and no reader needs it.
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';

export class WalFlusher {
  private file?: Promise<FileHandle>;
  private running?: Promise<void>;
  private queued?: Promise<void>;

  constructor(private readonly databasePath: string) {}

  /** Resolves once everything committed before the call is on disk. */
  flush(): Promise<void> {
    if (!this.running) return this.start();
    // The running sync may have begun before the caller's commit: the next
    // one, started when it ends, covers every commit made until then.
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  /** Waits for syncs under way and closes the WAL file. */
  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.queued]);
    await (await this.file?.catch(() => undefined))?.close();
  }

  private start(): Promise<void> {
    const run = this.sync().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async sync(): Promise<void> {
    this.file ??= this.openWal();
    await (await this.file).datasync();
  }

  /** The WAL exists once something has been committed; its directory entry is made durable once. */
  private async openWal(): Promise<FileHandle> {
    const file = await open(`${this.databasePath}-wal`, 'r+');
    const directory = await open(dirname(this.databasePath), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    return file;
  }
}

/** Checkpoints follow writes, at most this often. */
const CHECKPOINT_DELAY_MS = 100;

// Plain JavaScript, run with `eval`, so it needs no build step under tsx or tsc.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
let scheduled = null;
const checkpoint = () => {
  scheduled = null;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }); }
};
parentPort.on('message', (message) => {
  if (message === 'wrote') { if (!scheduled) scheduled = setTimeout(checkpoint, workerData.delayMs); return; }
  if (message === 'close') { if (scheduled) clearTimeout(scheduled); checkpoint(); db.close(); parentPort.close(); }
});
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  /** `driverPath`: where better-sqlite3 resolves from (the worker loads it itself). */
  constructor(path: string, driverPath: string, onError: (message: string) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver: driverPath, delayMs: CHECKPOINT_DELAY_MS } });
    this.worker.on('message', (message: { error?: string }) => {
      if (message.error) onError(message.error);
    });
    this.worker.on('error', (err) => onError(err.message));
    // A background helper must not keep the process alive on its own.
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** A transaction committed: a checkpoint follows shortly. */
  wrote(): void {
    this.worker.postMessage('wrote');
  }

  /** Checkpoints what is left and stops the worker. */
  async close(): Promise<void> {
    // Held open from here, or a caller awaiting only this would see the process end.
    this.worker.ref();
    this.worker.postMessage('close');
    await this.exited;
  }
}
