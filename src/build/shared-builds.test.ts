/** One build per key however many ask at once, and a bound past which askers are told to wait. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../platform/errors.ts';
import { SharedBuilds } from './shared-builds.ts';

/** A build the test finishes when it chooses: no timing decides what overlaps. */
function gated<T>(value: T) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let started = 0;
  return {
    make: async () => {
      started++;
      await gate;
      return value;
    },
    open,
    started: () => started,
  };
}

describe('shared builds', () => {
  it('makes a key once for every asker meanwhile, and again once it is done', async () => {
    const builds = new SharedBuilds<string>(2, 5);
    const a = gated('a');
    const asks = Array.from({ length: 8 }, () => builds.run('k', a.make, { refuse: true }));
    assert.equal(a.started(), 1);
    assert.equal(builds.size, 1);
    a.open();
    assert.deepEqual(await Promise.all(asks), Array(8).fill('a'));
    assert.equal(builds.size, 0);
    const b = gated('b');
    b.open();
    assert.equal(await builds.run('k', b.make), 'b');
  });

  it('refuses a new key past the bound with a wait, but still shares running ones and lets the platform wait', async () => {
    const builds = new SharedBuilds<string>(2, 7);
    const [a, b, c] = [gated('a'), gated('b'), gated('c')];
    const pa = builds.run('a', a.make, { refuse: true });
    const pb = builds.run('b', b.make, { refuse: true });
    await assert.rejects(builds.run('c', c.make, { refuse: true }), (err: unknown) => {
      assert.ok(err instanceof DomainError);
      assert.equal(err.code, 'GOVHOST_BUSY');
      assert.equal(err.extensions.retryAfter, 7);
      return true;
    });
    assert.equal(c.started(), 0, 'a refused build does not start');
    // Joining a build already running costs nothing: it is not refused.
    const pa2 = builds.run('a', a.make, { refuse: true });
    // The platform's own caller (a deploy) waits rather than fail.
    const pc = builds.run('c', c.make);
    a.open();
    b.open();
    c.open();
    assert.deepEqual(await Promise.all([pa, pb, pa2, pc]), ['a', 'b', 'a', 'c']);
    assert.equal(a.started(), 1);
  });

  it('forgets a failed build, so the next asker tries again', async () => {
    const builds = new SharedBuilds<string>(1, 5);
    await assert.rejects(
      builds.run('k', () => Promise.reject(new Error('disk full'))),
      /disk full/,
    );
    assert.equal(builds.size, 0);
    assert.equal(await builds.run('k', async () => 'ok', { refuse: true }), 'ok');
  });
});
