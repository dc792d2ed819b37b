import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuAmount } from './commands/capacity.ts';

describe('figures the CLI prints', () => {
  it('CPU amounts have no binary-float tail', () => {
    assert.equal(cpuAmount(0.026000000000000002), '0.026');
    assert.equal(cpuAmount(0.1 + 0.2), '0.3');
    assert.equal(cpuAmount(64), '64');
  });
});
