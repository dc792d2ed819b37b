// Months as the pipeline, forecasts and finance read them: the first year of the calendar is read
// as itself (not as 1901), and the years a month cannot be in are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMonth, monthBounds } from './month.ts';

describe('months', () => {
  it('bounds a month of the first century as itself', () => {
    const { start, end } = monthBounds('0050-03');
    assert.equal(start.toISOString(), '0050-03-01T00:00:00.000Z');
    assert.equal(end.toISOString(), '0050-04-01T00:00:00.000Z');
    assert.equal(monthBounds('2026-12').end.toISOString(), '2027-01-01T00:00:00.000Z');
  });

  it('refuses the year 0 and the year 9999, and what is not YYYY-MM', () => {
    for (const m of ['0000-01', '9999-01', '9999-12', '2026-13', '2026-00', '26-01', '2026-1'])
      assert.equal(isMonth(m), false, m);
    for (const m of ['0001-01', '0010-01', '0999-12', '9899-01', '9989-12', '9998-12', '2026-12'])
      assert.equal(isMonth(m), true, m);
  });
});
