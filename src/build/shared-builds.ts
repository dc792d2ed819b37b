/**
 * Work named by a key, done once however many ask at the same time, and only so many pieces at
 * once: many pods that start together all ask for the same droplet archive, and each `tar` +
 * gzip takes a core for seconds, so the second asker waits for the first one's result and an
 * asker past the bound is told to come back later instead of queueing more work.
 */
import { DomainError } from '../platform/errors.ts';

export class SharedBuilds<T> {
  private readonly running = new Map<string, Promise<T>>();

  /**
   * @param limit how many different keys may be worked on at once; past it, `run` with
   *   `refuse: true` rejects with GOVHOST_BUSY.
   * @param retryAfterSec what that refusal tells the asker to wait.
   */
  constructor(
    readonly limit: number,
    readonly retryAfterSec: number,
  ) {}

  /** How many keys are being worked on now. */
  get size(): number {
    return this.running.size;
  }

  /**
   * `make()`'s result for `key`, shared with every caller asking for the same key meanwhile. A
   * caller that cannot wait long (an HTTP request) passes `refuse: true` and is refused when the
   * bound is reached; the platform's own callers wait for a slot-less build instead.
   *
   * @example builds.run(sha256, () => makeArchive(dir, sha256), { refuse: true })
   */
  run(key: string, make: () => Promise<T>, opts: { refuse?: boolean } = {}): Promise<T> {
    const shared = this.running.get(key);
    if (shared) return shared;
    if (opts.refuse && this.running.size >= this.limit)
      return Promise.reject(
        new DomainError(
          'GOVHOST_BUSY',
          `${this.running.size} builds are running: retry in ${this.retryAfterSec} s`,
          {
            retryAfter: this.retryAfterSec,
          },
        ),
      );
    const work = make().finally(() => this.running.delete(key));
    this.running.set(key, work);
    return work;
  }
}
