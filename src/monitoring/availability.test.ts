import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activeSpansOf, type LifecycleEvent } from '../catalog/lifecycle.repository.ts';
import {
  type AvailabilityInput,
  computeAvailability,
  mergeIntervals,
  subtract,
  toMinutes,
} from './availability.ts';

const at = (iso: string) => new Date(iso);
const outage = (from: string, to: string | null) => ({ startedAt: at(from), endedAt: to ? at(to) : null });
const window = (from: string, to: string) => ({ startsAt: at(from), endsAt: at(to) });
/** Lifecycle changes as the catalogue records them: `['active', '2026-11-02T00:00:00Z']`, ... */
const history = (...changes: [LifecycleEvent['state'], string][]): LifecycleEvent[] =>
  changes.map(([state, when]) => ({ state, at: at(when) }));

// November 2026 has 30 days: 30 x 86,400 = 2,592,000 s. Every case is measured after the month
// (now = 2027-01-01) unless it says otherwise, of a service active all year unless it says otherwise.
const NOVEMBER = {
  from: at('2026-11-01T00:00:00Z'),
  to: at('2026-12-01T00:00:00Z'),
  active: [{ start: at('2026-01-01T00:00:00Z'), end: at('2027-01-01T00:00:00Z') }],
  now: at('2027-01-01T00:00:00Z'),
  outages: [],
  maintenance: [],
  target: 99.95,
} satisfies AvailabilityInput;

describe('interval arithmetic', () => {
  it('merges overlapping and touching intervals', () => {
    // [0,10) + [5,20) overlap, [20,25) touches: one stretch [0,25); [30,40) stays apart.
    const merged = mergeIntervals([
      { start: 30, end: 40 },
      { start: 5, end: 20 },
      { start: 0, end: 10 },
      { start: 20, end: 25 },
      { start: 50, end: 50 },
    ]);
    assert.deepEqual(merged, [
      { start: 0, end: 25 },
      { start: 30, end: 40 },
    ]);
  });

  it('subtracts one set from another', () => {
    // [0,25) minus [5,8) and [22,35) leaves [0,5) and [8,22); [30,40) minus [22,35) leaves [35,40).
    const left = subtract(
      [
        { start: 0, end: 25 },
        { start: 30, end: 40 },
      ],
      [
        { start: 5, end: 8 },
        { start: 22, end: 35 },
      ],
    );
    assert.deepEqual(left, [
      { start: 0, end: 5 },
      { start: 8, end: 22 },
      { start: 35, end: 40 },
    ]);
  });

  it('gives minutes with one decimal', () => {
    // 90 s = 1.5 min; 135 s = 2.25 min, rounded half up to 2.3; 100 s = 1.666... min = 1.7.
    assert.equal(toMinutes(90), 1.5);
    assert.equal(toMinutes(135), 2.3);
    assert.equal(toMinutes(100), 1.7);
    assert.equal(toMinutes(0), 0);
  });
});

describe('availability of a month', () => {
  it('counts partial minutes as their seconds', () => {
    // Outages of 90 s and 45 s: 135 s down = 2.3 min (2.25 rounded).
    // (2,592,000 - 135) / 2,592,000 = 99.99479...% -> 99.994 (cut, not rounded).
    // Gold 99.95 %: 2,591,865 x 10,000 >= 9,995 x 2,592,000 -> met.
    const r = computeAvailability({
      ...NOVEMBER,
      outages: [
        outage('2026-11-10T10:00:00Z', '2026-11-10T10:01:30Z'),
        outage('2026-11-10T10:20:00Z', '2026-11-10T10:20:45Z'),
      ],
    });
    assert.deepEqual(r, {
      eligibleSeconds: 2_592_000,
      downtimeSeconds: 135,
      maintenanceSeconds: 0,
      availability: 99.994,
      met: true,
      outages: 2,
    });
    assert.equal(toMinutes(r.downtimeSeconds), 2.3);
  });

  it('rounds milliseconds to the nearest second', () => {
    // 59.6 s of outage counts as 60 s; 0.4 s as 0 s on its own, but the sum is taken first:
    // 59.6 + 0.4 = 60.0 s.
    const r = computeAvailability({
      ...NOVEMBER,
      outages: [
        outage('2026-11-02T00:00:00.000Z', '2026-11-02T00:00:59.600Z'),
        outage('2026-11-02T01:00:00.000Z', '2026-11-02T01:00:00.400Z'),
      ],
    });
    assert.equal(r.downtimeSeconds, 60);
  });

  it('meets the target at exactly the allowed downtime and misses it one second later', () => {
    // Gold allows 0.05 % of 2,592,000 s = 1,296 s. With 1,296 s: exactly 99.95 %, met.
    // With 1,297 s: 2,590,703 / 2,592,000 = 99.94996...% -> 99.949, not met.
    const exact = computeAvailability({
      ...NOVEMBER,
      outages: [outage('2026-11-03T00:00:00Z', '2026-11-03T00:21:36Z')],
    });
    assert.equal(exact.downtimeSeconds, 1296);
    assert.equal(exact.availability, 99.95);
    assert.equal(exact.met, true);
    const over = computeAvailability({
      ...NOVEMBER,
      outages: [outage('2026-11-03T00:00:00Z', '2026-11-03T00:21:37Z')],
    });
    assert.equal(over.availability, 99.949);
    assert.equal(over.met, false);
  });

  it('merges overlapping maintenance windows and excludes them from eligible time and downtime', () => {
    // Windows 02:00-04:00 and 03:00-05:00 merge to 02:00-05:00 = 10,800 s.
    // Eligible: 2,592,000 - 10,800 = 2,581,200 s.
    // Outage 01:30-02:30: only 01:30-02:00 = 1,800 s is downtime (30.0 min).
    // (2,581,200 - 1,800) / 2,581,200 = 99.93026...% -> 99.930.
    // Silver (99.9): 2,579,400 x 10,000 = 25,794,000,000 >= 9,990 x 2,581,200 = 25,786,188,000 -> met.
    // Gold (99.95): 9,995 x 2,581,200 = 25,799,094,000 > 25,794,000,000 -> not met.
    const input = {
      ...NOVEMBER,
      outages: [outage('2026-11-15T01:30:00Z', '2026-11-15T02:30:00Z')],
      maintenance: [
        window('2026-11-15T02:00:00Z', '2026-11-15T04:00:00Z'),
        window('2026-11-15T03:00:00Z', '2026-11-15T05:00:00Z'),
      ],
    };
    const silver = computeAvailability({ ...input, target: 99.9 });
    assert.deepEqual(silver, {
      eligibleSeconds: 2_581_200,
      downtimeSeconds: 1_800,
      maintenanceSeconds: 10_800,
      availability: 99.93,
      met: true,
      outages: 1,
    });
    assert.equal(computeAvailability({ ...input, target: 99.95 }).met, false);
  });

  it('cuts a maintenance window out of the middle of an outage', () => {
    // Outage 10:00-11:00 (3,600 s), maintenance 10:20-10:30 (600 s): 3,000 s down = 50.0 min.
    // Eligible 2,592,000 - 600 = 2,591,400; (2,591,400 - 3,000) / 2,591,400 = 99.88423...% -> 99.884.
    // Bronze (99.5) met; silver: 2,588,400 x 10,000 = 25,884,000,000 < 9,990 x 2,591,400 -> not met.
    const input = {
      ...NOVEMBER,
      outages: [outage('2026-11-20T10:00:00Z', '2026-11-20T11:00:00Z')],
      maintenance: [window('2026-11-20T10:20:00Z', '2026-11-20T10:30:00Z')],
    };
    const r = computeAvailability({ ...input, target: 99.5 });
    assert.equal(r.downtimeSeconds, 3_000);
    assert.equal(toMinutes(r.downtimeSeconds), 50);
    assert.equal(r.eligibleSeconds, 2_591_400);
    assert.equal(r.availability, 99.884);
    assert.equal(r.met, true);
    assert.equal(computeAvailability({ ...input, target: 99.9 }).met, false);
  });

  it('splits an outage across the month boundary', () => {
    // Outage 2026-10-31 23:50 - 2026-11-01 00:12: 600 s in October, 720 s in November.
    // October: 31 days = 2,678,400 s; (2,678,400 - 600) / 2,678,400 = 99.97759...% -> 99.977.
    // November: (2,592,000 - 720) / 2,592,000 = 99.97222...% -> 99.972.
    const outages = [outage('2026-10-31T23:50:00Z', '2026-11-01T00:12:00Z')];
    const oct = computeAvailability({
      ...NOVEMBER,
      from: at('2026-10-01T00:00:00Z'),
      to: at('2026-11-01T00:00:00Z'),
      outages,
    });
    assert.deepEqual(
      [oct.eligibleSeconds, oct.downtimeSeconds, oct.availability, oct.outages],
      [2_678_400, 600, 99.977, 1],
    );
    const nov = computeAvailability({ ...NOVEMBER, outages });
    assert.deepEqual(
      [nov.eligibleSeconds, nov.downtimeSeconds, nov.availability, nov.outages],
      [2_592_000, 720, 99.972, 1],
    );
  });

  it('starts a service planned before the month and activated mid-month at its activation', () => {
    // Planned 2026-11-08, first release live 2026-11-16 12:00: 14.5 days = 1,252,800 s eligible.
    // An outage on the 10th (while planned) does not count; one on the 20th of 600 s does.
    // 1,252,200 / 1,252,800 = 99.95210...% -> 99.952.
    // Gold: 1,252,200 x 10,000 = 12,522,000,000 >= 9,995 x 1,252,800 = 12,521,736,000 -> met.
    const r = computeAvailability({
      ...NOVEMBER,
      active: activeSpansOf(
        history(['planned', '2026-11-08T00:00:00Z'], ['active', '2026-11-16T12:00:00Z']),
        NOVEMBER.from,
        NOVEMBER.to,
      ),
      outages: [
        outage('2026-11-10T08:00:00Z', '2026-11-10T09:00:00Z'),
        outage('2026-11-20T08:00:00Z', '2026-11-20T08:10:00Z'),
      ],
    });
    assert.deepEqual(r, {
      eligibleSeconds: 1_252_800,
      downtimeSeconds: 600,
      maintenanceSeconds: 0,
      availability: 99.952,
      met: true,
      outages: 1,
    });
  });

  it('counts an open outage until now, and the current month until now', () => {
    // Now 2026-11-20 12:00: 19.5 days = 1,684,800 s so far. Outage open since 11:30: 1,800 s.
    // 1,683,000 / 1,684,800 = 99.89316...% -> 99.893. Silver: 16,830,000,000 < 9,990 x 1,684,800
    // = 16,831,152,000 -> not met.
    const r = computeAvailability({
      ...NOVEMBER,
      now: at('2026-11-20T12:00:00Z'),
      outages: [outage('2026-11-20T11:30:00Z', null)],
      target: 99.9,
    });
    assert.deepEqual(r, {
      eligibleSeconds: 1_684_800,
      downtimeSeconds: 1_800,
      maintenanceSeconds: 0,
      availability: 99.893,
      met: false,
      outages: 1,
    });
  });

  it('says null, not 100 %, for a month with no eligible time', () => {
    // Active from 2026-12-05, after November ended: no service time at all.
    const later = computeAvailability({
      ...NOVEMBER,
      active: activeSpansOf(history(['active', '2026-12-05T00:00:00Z']), NOVEMBER.from, NOVEMBER.to),
    });
    assert.deepEqual(later, {
      eligibleSeconds: 0,
      downtimeSeconds: 0,
      maintenanceSeconds: 0,
      availability: null,
      met: null,
      outages: 0,
    });
    // A month that has not begun (now is before it).
    const future = computeAvailability({ ...NOVEMBER, now: at('2026-10-15T00:00:00Z') });
    assert.equal(future.availability, null);
    // Maintenance over the whole month: nothing was promised, so nothing is measured.
    const closed = computeAvailability({
      ...NOVEMBER,
      maintenance: [window('2026-10-30T00:00:00Z', '2026-12-02T00:00:00Z')],
      outages: [outage('2026-11-04T00:00:00Z', '2026-11-04T01:00:00Z')],
    });
    assert.deepEqual(
      [closed.eligibleSeconds, closed.downtimeSeconds, closed.maintenanceSeconds, closed.availability],
      [0, 0, 2_592_000, null],
    );
  });

  it('leaves out the time a service was suspended, with its outages and maintenance', () => {
    // Active all year, suspended 2026-11-10 00:00, active again 2026-11-12 06:00: 2 days 6 hours
    // = 194,400 s suspended; eligible 2,592,000 - 194,400 = 2,397,600 s.
    // Outage 11-11 10:00-11:00 (suspended) and maintenance 11-11 00:00-02:00 (suspended): neither
    // counts. Outage 11-12 05:30-06:10 counts from 06:00: 600 s.
    // 2,397,000 / 2,397,600 = 99.97497...% -> 99.974.
    // Gold: 2,397,000 x 10,000 = 23,970,000,000 >= 9,995 x 2,397,600 = 23,963,012,000 -> met.
    const r = computeAvailability({
      ...NOVEMBER,
      active: activeSpansOf(
        history(
          ['planned', '2025-12-20T00:00:00Z'],
          ['active', '2026-01-01T00:00:00Z'],
          ['suspended', '2026-11-10T00:00:00Z'],
          ['active', '2026-11-12T06:00:00Z'],
        ),
        NOVEMBER.from,
        NOVEMBER.to,
      ),
      outages: [
        outage('2026-11-11T10:00:00Z', '2026-11-11T11:00:00Z'),
        outage('2026-11-12T05:30:00Z', '2026-11-12T06:10:00Z'),
      ],
      maintenance: [window('2026-11-11T00:00:00Z', '2026-11-11T02:00:00Z')],
    });
    assert.deepEqual(r, {
      eligibleSeconds: 2_397_600,
      downtimeSeconds: 600,
      maintenanceSeconds: 0,
      availability: 99.974,
      met: true,
      outages: 1,
    });
  });

  it('measures a service retired mid-month until its retirement, and not in the month after', () => {
    // Planned 2026-10-01, active 2026-10-02, retired 2026-11-11 00:00: 10 days = 864,000 s.
    // Maintenance 11-10 22:00 - 11-11 02:00: 2 hours before the retirement = 7,200 s;
    // eligible 864,000 - 7,200 = 856,800 s. Outage 11-05 10:00-10:30 = 1,800 s; one on the 20th,
    // after the retirement, does not count.
    // 855,000 / 856,800 = 99.78991...% -> 99.789.
    // Bronze (99.5): 8,550,000,000 >= 9,950 x 856,800 = 8,525,160,000 -> met;
    // silver (99.9): 9,990 x 856,800 = 8,559,432,000 > 8,550,000,000 -> not met.
    const changes = history(
      ['planned', '2026-10-01T00:00:00Z'],
      ['active', '2026-10-02T00:00:00Z'],
      ['retired', '2026-11-11T00:00:00Z'],
    );
    const input = {
      ...NOVEMBER,
      active: activeSpansOf(changes, NOVEMBER.from, NOVEMBER.to),
      outages: [
        outage('2026-11-05T10:00:00Z', '2026-11-05T10:30:00Z'),
        outage('2026-11-20T10:00:00Z', '2026-11-20T11:00:00Z'),
      ],
      maintenance: [window('2026-11-10T22:00:00Z', '2026-11-11T02:00:00Z')],
    };
    assert.deepEqual(computeAvailability({ ...input, target: 99.5 }), {
      eligibleSeconds: 856_800,
      downtimeSeconds: 1_800,
      maintenanceSeconds: 7_200,
      availability: 99.789,
      met: true,
      outages: 1,
    });
    assert.equal(computeAvailability({ ...input, target: 99.9 }).met, false);
    const december = { from: at('2026-12-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') };
    assert.deepEqual(activeSpansOf(changes, december.from, december.to), [], 'no line in December');
  });
});
