// Rates derived from the cost model, by hand: the paper's 2015-16 recurring cost recovered from
// 1,000 CPUs and 4,000 GB at 80 % utilisation, half on each.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { businessCase } from './cost-model.ts';
import { PAPER_MODEL } from './paper.ts';
import { hoursOfYear, proposeRates } from './rate-proposal.logic.ts';

describe('rates from the cost model', () => {
  const bc = businessCase(PAPER_MODEL);
  const input = {
    scenario: 'paper',
    year: '2015-16',
    capacity: { cpu: 1_000, memoryGb: 4_000 },
    utilisation: 0.8,
    memoryShare: 0.5,
  };

  it('counts the hours of a financial year, a leap day included', () => {
    assert.equal(hoursOfYear('2015-16'), 366 * 24); // 29 February 2016
    assert.equal(hoursOfYear('2016-17'), 365 * 24);
  });

  it("recovers a year's recurring cost at the target utilisation", () => {
    /*
     * 2015-16 recurring: maintenance and support 30,000 + staff 6,100 = HK$36.1M = 3,610,000,000
     * cents; half each: 1,805,000,000. Memory: 4,000 GB × 8,784 h × 0.8 = 28,108,800 GB-hours,
     * 64.214765 cents each; CPU: 1,000 × 8,784 × 0.8 = 7,027,200 CPU-hours, 256.859062 cents.
     * At 6 decimals they recover 1,804,999,986 and 1,805,000,000 cents.
     */
    const p = proposeRates(bc, input);
    assert.equal(p.recurringCostCents, 3_610_000_000);
    assert.equal(p.hours, 8_784);
    assert.deepEqual(p.rates, [
      { resource: 'memory-gb-hour', centsPerUnit: 64.214765, recoversCents: 1_804_999_986 },
      { resource: 'cpu-hour', centsPerUnit: 256.859062, recoversCents: 1_805_000_000 },
    ]);
    // All on CPU: twice the CPU rate, memory free.
    const cpuOnly = proposeRates(bc, { ...input, memoryShare: 0 });
    assert.deepEqual(
      cpuOnly.rates.map((r) => r.centsPerUnit),
      [0, 513.718124],
    );
  });

  it('says plainly what it cannot propose', () => {
    assert.throws(() => proposeRates(bc, { ...input, year: '2030-31' }), /2030-31 is not a year of paper/);
    assert.throws(() => proposeRates(bc, { ...input, capacity: { cpu: 0, memoryGb: 0 } }), /no active farm/);
  });
});
