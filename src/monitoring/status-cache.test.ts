import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusFeedCache } from './status.logic.ts';

/** A load whose completion the test controls, counting how often it ran. */
function controlledLoad() {
  const pending: ((v: number) => void)[] = [];
  let calls = 0;
  return {
    load: () => {
      calls += 1;
      return new Promise<number>((resolve) => pending.push(resolve));
    },
    finish: (i: number, v: number) => pending[i]?.(v),
    calls: () => calls,
  };
}

describe('status feed cache', () => {
  it('computes once for a crowd of concurrent requests, and again only after its time', async () => {
    let now = 1_000;
    const c = controlledLoad();
    const cache = new StatusFeedCache(c.load, 5_000, () => now);
    const crowd = Array.from({ length: 50 }, () => cache.get());
    assert.equal(c.calls(), 1);
    c.finish(0, 42);
    assert.deepEqual(new Set(await Promise.all(crowd)), new Set([42]));
    now += 4_999;
    assert.equal(await cache.get(), 42);
    assert.equal(c.calls(), 1);
    now += 1;
    const next = cache.get();
    assert.equal(c.calls(), 2);
    c.finish(1, 43);
    assert.equal(await next, 43);
  });

  it('does not keep a result computed before an invalidation', async () => {
    const c = controlledLoad();
    const cache = new StatusFeedCache(c.load, 5_000, () => 0);
    const stale = cache.get();
    cache.invalidate();
    const fresh = cache.get();
    assert.equal(c.calls(), 2, 'a request after the change does not wait for the old computation');
    c.finish(0, 1);
    assert.equal(await stale, 1);
    c.finish(1, 2);
    assert.equal(await fresh, 2);
    assert.equal(await cache.get(), 2, 'the fresh result is the one kept');
    assert.equal(c.calls(), 2);
  });
});
