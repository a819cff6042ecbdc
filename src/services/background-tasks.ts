// Work that must not hold up the request that caused it: telling other
// servers of a typing notification, a receipt or a presence change, applying
// what they tell us that needs a request back (a device list resync), or
// re-sending a user's member events after a profile change. Each task's
// failure is logged; shutdown waits for those running.
export type TaskLog = (message: string, fields?: Record<string, unknown>) => void;

export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly log: TaskLog) {}

  /** Starts `task` unless shutting down; `what` names it in the log if it fails. */
  run(what: string, task: () => Promise<void>): void {
    if (this.stopped) return;
    const promise: Promise<void> = Promise.resolve()
      .then(task)
      .catch((err: unknown) => this.log(`${what} failed`, { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** True once shutdown began: a long task stops between its steps. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Refuses new tasks and waits for the running ones (and any they start). */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
