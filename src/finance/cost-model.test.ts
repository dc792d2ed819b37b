// The paper's annex (cost-benefit analysis, cash flow in HK$ thousands), cell by cell as printed,
// against what the cost model adds up from paragraphs 12-25; then a contingency rate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ByYear,
  businessCase,
  businessCaseCsv,
  type CostModel,
  contingencyAmounts,
} from './cost-model.ts';
import { PAPER_MODEL, PAPER_YEARS } from './paper.ts';

// Copied from the annex: nine years, then the total ('-' printed as 0; no total for cumulative).
const ANNEX: Record<string, [number[], number | null]> = {
  'nonRecurring.expenditure': [[35_000, 50_000, 30_000, 20_000, 0, 0, 0, 0, 0], 135_000],
  'nonRecurring.staff': [[5_000, 6_200, 6_200, 6_200, 0, 0, 0, 0, 0], 23_600],
  'nonRecurring.subtotal': [[40_000, 56_200, 36_200, 26_200, 0, 0, 0, 0, 0], 158_600],
  'recurring.expenditure': [[0, 4_300, 10_300, 13_300, 30_000, 30_000, 30_000, 30_000, 30_000], 177_900],
  'recurring.staff': [[0, 6_100, 6_100, 6_100, 6_100, 6_100, 6_100, 6_100, 6_100], 48_800],
  'recurring.subtotal': [[0, 10_400, 16_400, 19_400, 36_100, 36_100, 36_100, 36_100, 36_100], 226_700],
  'cost.total': [[40_000, 66_600, 52_600, 45_600, 36_100, 36_100, 36_100, 36_100, 36_100], 385_300],
  'savings.oneOffAvoidable': [[65_000, 65_000, 65_000, 65_000, 0, 0, 0, 0, 0], 260_000],
  'savings.recurringRealisable': [
    [0, 10_400, 14_600, 18_900, 36_100, 36_100, 36_100, 36_100, 36_100],
    224_400,
  ],
  'savings.total': [[65_000, 75_400, 79_600, 83_900, 36_100, 36_100, 36_100, 36_100, 36_100], 484_400],
  net: [[25_000, 8_800, 27_000, 38_300, 0, 0, 0, 0, 0], 99_100],
  'net.cumulative': [[25_000, 33_800, 60_800, 99_100, 99_100, 99_100, 99_100, 99_100, 99_100], null],
};

describe('the business case', () => {
  const bc = businessCase(PAPER_MODEL);

  it('reproduces every cell of the annex of the paper, rows in its order', () => {
    assert.deepEqual(bc.years, [...PAPER_YEARS]);
    assert.deepEqual(
      bc.annex.map((r) => r.key),
      Object.keys(ANNEX),
    );
    for (const row of bc.annex) {
      const [years, total] = ANNEX[row.key] ?? [[], null];
      assert.deepEqual(row.byYear, years, row.key);
      assert.equal(row.total, total, `${row.key} total`);
    }
    assert.deepEqual(bc.totals, { cost: 385_300, savings: 484_400, net: 99_100 });
  });

  it("keeps paragraph 15's and 21's items, which the annex's expenditure lines sum", () => {
    const item = (key: string) => bc.detail.find((r) => r.key === key);
    assert.equal(item('nonRecurring.hardwareSoftware')?.total, 74_200);
    assert.equal(item('nonRecurring.systemDevelopment')?.total, 25_500);
    assert.equal(item('nonRecurring.implementation')?.total, 23_000);
    assert.equal(item('nonRecurring.contingency')?.total, 12_300);
    assert.deepEqual(item('recurring.maintenance')?.byYear.slice(1, 5), [4_300, 10_300, 13_300, 14_600]);
    assert.deepEqual(item('recurring.support')?.byYear.slice(4), [15_400, 15_400, 15_400, 15_400, 15_400]);
  });

  it('takes a contingency rate on (a) to (c), each year rounded half up to the thousand', () => {
    const model: CostModel = {
      ...PAPER_MODEL,
      nonRecurring: { ...PAPER_MODEL.nonRecurring, contingency: { rate: 0.1 } },
    };
    // (a)+(b)+(c) = 31,800, 45,400, 27,300, 18,200: 10% is 3,180, 4,540, 2,730, 1,820.
    assert.deepEqual(contingencyAmounts(model).slice(0, 5), [3_180, 4_540, 2_730, 1_820, 0]);
    // A base of 31,805 gives 3,180.5: half a thousand goes up.
    const odd: ByYear = [21_805, ...PAPER_MODEL.nonRecurring.hardwareSoftware.slice(1)];
    const half = { ...model, nonRecurring: { ...model.nonRecurring, hardwareSoftware: odd } };
    assert.deepEqual(contingencyAmounts(half).slice(0, 2), [3_181, 4_540]);
    assert.equal(businessCase(model).totals.cost, 385_300 - 12_300 + 12_270);
  });

  it('writes the annex as CSV: a header of years, one line a row, CRLF', () => {
    const lines = businessCaseCsv(bc).split('\r\n');
    assert.equal(lines[0], `row,label,${PAPER_YEARS.join(',')},total`);
    assert.equal(
      lines[7],
      'cost.total,Total cost,40000,66600,52600,45600,36100,36100,36100,36100,36100,385300',
    );
    assert.equal(
      lines[12],
      'net.cumulative,Cumulative net savings,25000,33800,60800,99100,99100,99100,99100,99100,99100,',
    );
    assert.equal(lines.length, 14);
  });
});
