// Wakes long-polling /sync (and /events) requests the moment something they
// care about is written. Every kind of sync data is a stream with its own
// monotonically increasing position; writers call `notify` after their data
// is committed, and a waiter is woken if the change concerns its user or one
// of its rooms. No polling loops anywhere.

export const STREAMS = ['events', 'account_data', 'receipts', 'typing', 'presence', 'to_device', 'device_lists'] as const;
export type StreamName = (typeof STREAMS)[number];

/** Who a change concerns: the users it is for, and/or the rooms it happened in. */
export interface ChangeAudience {
  userIds?: readonly string[];
  roomIds?: readonly string[];
}

interface Waiter {
  userId: string;
  roomIds: ReadonlySet<string>;
  wake: () => void;
}

export class Notifier {
  private readonly positions = new Map<StreamName, number>();
  private readonly waiters = new Set<Waiter>();
  private shuttingDown = false;

  /** Records the newest position of a stream (at start-up, from storage). */
  setPosition(stream: StreamName, position: number): void {
    if (position > (this.positions.get(stream) ?? 0)) this.positions.set(stream, position);
  }

  position(stream: StreamName): number {
    return this.positions.get(stream) ?? 0;
  }

  /** Call after the change at `position` is committed. */
  notify(stream: StreamName, position: number, audience: ChangeAudience): void {
    this.setPosition(stream, position);
    for (const waiter of this.waiters) {
      if (concerns(waiter, audience)) {
        this.waiters.delete(waiter);
        waiter.wake();
      }
    }
  }

  /**
   * Resolves when a change concerning `userId` or one of `roomIds` is notified,
   * or after `timeoutMs`, or when `signal` aborts (the client went away).
   */
  waitForChange(userId: string, roomIds: ReadonlySet<string>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.shuttingDown) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        userId,
        roomIds,
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', waiter.wake);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      this.waiters.add(waiter);
      timer = setTimeout(waiter.wake, Math.max(0, timeoutMs));
      signal?.addEventListener('abort', waiter.wake, { once: true });
    });
  }

  /** At shutdown: wakes every waiter and answers later waits at once, so no request hangs. */
  close(): void {
    this.shuttingDown = true;
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /** Long polls should answer with what they have: the server is stopping. */
  get closed(): boolean {
    return this.shuttingDown;
  }

  get waiterCount(): number {
    return this.waiters.size;
  }
}

function concerns(waiter: Waiter, audience: ChangeAudience): boolean {
  if (audience.userIds?.includes(waiter.userId)) return true;
  return audience.roomIds?.some((roomId) => waiter.roomIds.has(roomId)) ?? false;
}
