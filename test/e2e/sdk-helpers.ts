// What the matrix-js-sdk end-to-end tests share: a process whose timers
// cannot keep it alive, a silent SDK logger, and polling for a condition.
// It imports no SDK entry point, so a test of another SDK version (which
// refuses to load beside a second entry point) can use it too.
import { logger } from 'matrix-js-sdk/lib/logger.js';

// matrix-js-sdk arms a ~110 s local timeout per /sync request and does not
// clear it when the client stops, which would hold a test process open for
// minutes after its last test. Timers in an e2e test process are unref'd so
// they cannot keep it alive; the test server's sockets keep it running while
// tests do.
const armTimeout = globalThis.setTimeout;
globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => armTimeout(...args).unref()) as typeof setTimeout;

// The SDK's global logger is a loglevel logger underneath (its typings hide
// setLevel); its per-room child loggers force debug and still print.
(logger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');

/** A logger for createClient({ logger }) that says nothing. */
export const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  getChild() {
    return quietLogger;
  },
};

type Maybe<T> = T | null | undefined | false;

/** Polls `check` every 20 ms until it yields a truthy value, or fails naming `what`. */
export function waitFor<T>(what: string, check: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = async () => {
      const value = await check();
      if (value) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(() => void tick(), 20);
    };
    void tick();
  });
}
