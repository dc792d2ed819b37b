import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from './restart-policy.ts';

describe('restart policy', () => {
  it('restarts at once the first time, then doubles from 0.5 s up to 30 s', () => {
    const policy = new RestartPolicy();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) delays.push(policy.onCrash(i * 100_000, null).delayMs);
    assert.deepEqual(delays, [0, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('calls three crashes within a minute a crash loop, and fewer not', () => {
    const policy = new RestartPolicy();
    assert.equal(policy.onCrash(0, null).crashLoop, false);
    assert.equal(policy.onCrash(10_000, null).crashLoop, false);
    assert.equal(policy.onCrash(20_000, null).crashLoop, true);
    // The first two fall out of the window; the back-off keeps growing regardless.
    const later = policy.onCrash(75_000, null);
    assert.equal(later.crashLoop, false);
    assert.equal(later.delayMs, 2000);
  });

  it('starts the back-off again after a minute of health', () => {
    const policy = new RestartPolicy();
    policy.onCrash(0, null);
    policy.onCrash(1000, null);
    assert.equal(policy.onCrash(2000, 1500).delayMs, 1000, 'healthy for 0.5 s is not enough');
    const fresh = policy.onCrash(200_000, 100_000);
    assert.deepEqual(fresh, { delayMs: 0, crashLoop: false });
  });
});
