// Runs tasks one at a time per key (a room), while different keys run in
// parallel. Events of one room must be built on each other's results (prev
// events, state, depth); rooms do not wait on each other.

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Whether a task for `key` is running or waiting. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }
}
