// The desk's clock arithmetic on hand-computed cases: Hong Kong business hours (Mon-Fri
// 09:00-18:00, UTC+8) across a weekend, public holidays (National Day, Lunar New Year, Christmas),
// pauses while the department has the ticket, and the 24x7 clock of gold services.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addCountedMs, countedMs, elapsedMs, monthSpan, parseHours } from './business-hours.ts';
import { HK_PUBLIC_HOLIDAYS } from './hk-holidays.ts';

const HK = parseHours('Mon-Fri 09:00-18:00 Asia/Hong_Kong', HK_PUBLIC_HOLIDAYS);
/** A Hong Kong local time, e.g. hk('2026-12-04 17:00'). */
const hk = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);
const H = 3_600_000;

describe('business-hours clock arithmetic', () => {
  it('a report month is the desk zone’s month: February 2027 in Hong Kong starts at 16:00 UTC on 31 January', () => {
    assert.deepEqual(monthSpan('Asia/Hong_Kong', 2027, 2), {
      from: new Date('2027-01-31T16:00:00Z'),
      to: new Date('2027-02-28T16:00:00Z'),
    });
    // December runs into the next year.
    assert.deepEqual(monthSpan('Asia/Hong_Kong', 2026, 12).to, new Date('2026-12-31T16:00:00Z'));
  });

  it('counts Friday 17:00 to Monday 10:00 as 2 hours (the weekend does not count)', () => {
    assert.equal(countedMs(HK, hk('2026-12-04 17:00'), hk('2026-12-07 10:00')), 2 * H);
  });

  it('skips a public holiday: Wednesday 17:30 to Friday 09:30 around National Day is 1 hour', () => {
    // 30 min on Wed 30 Sep, none on Thu 1 Oct (National Day), 30 min on Fri 2 Oct.
    assert.equal(countedMs(HK, hk('2026-09-30 17:30'), hk('2026-10-02 09:30')), 1 * H);
  });

  it('skips Christmas and the weekend after it: Thursday 24 Dec 17:00 to Monday 28 Dec 10:00 is 2 hours', () => {
    assert.equal(countedMs(HK, hk('2026-12-24 17:00'), hk('2026-12-28 10:00')), 2 * H);
  });

  it('finds a deadline across a weekend: Friday 17:00 plus 4 business hours is Monday 12:00', () => {
    assert.deepEqual(addCountedMs(HK, hk('2026-12-04 17:00'), 4 * H), hk('2026-12-07 12:00'));
  });

  it('finds a deadline across Lunar New Year: Monday 16 Feb 16:00 plus 9 hours is Friday 20 Feb 16:00', () => {
    // 2 h on Monday; Tuesday to Thursday (17-19 Feb) are holidays; 7 h on Friday.
    assert.deepEqual(addCountedMs(HK, hk('2026-02-16 16:00'), 9 * H), hk('2026-02-20 16:00'));
  });

  it('starts a clock raised at night at the next opening', () => {
    assert.deepEqual(addCountedMs(HK, hk('2026-12-05 23:00'), 30 * 60_000), hk('2026-12-07 09:30'));
    assert.equal(countedMs(HK, hk('2026-12-05 08:00'), hk('2026-12-06 20:00')), 0);
  });

  it('leaves out the time the ticket waited on the department', () => {
    // Mon 09:00 to Tue 18:00 is 18 h; paused Mon 12:00 to Tue 10:00 is 6 h + 1 h.
    const paused = [{ from: hk('2026-12-07 12:00'), to: hk('2026-12-08 10:00') }];
    assert.equal(elapsedMs(HK, hk('2026-12-07 09:00'), hk('2026-12-08 18:00'), paused), 11 * H);
    // A pause still open (to = now) counts up to the end only.
    const open = [{ from: hk('2026-12-08 17:00'), to: hk('2026-12-09 12:00') }];
    assert.equal(elapsedMs(HK, hk('2026-12-08 09:00'), hk('2026-12-08 18:00'), open), 8 * H);
  });

  it('counts every minute on the 24x7 clock of gold services', () => {
    assert.equal(countedMs(null, hk('2026-12-04 17:00'), hk('2026-12-07 10:00')), 65 * H);
    assert.deepEqual(addCountedMs(null, hk('2026-10-01 12:00'), 4 * H), hk('2026-10-01 16:00'));
  });

  it('reads other calendars, and says what is wrong with a bad one', () => {
    const cal = parseHours('Mon,Wed 08:30-12:00 Europe/London', ['2026-12-09']);
    // Monday 7 Dec 08:30-12:00 London (UTC in winter) counts; Wednesday 9 Dec is a holiday.
    assert.equal(countedMs(cal, new Date('2026-12-07T00:00Z'), new Date('2026-12-10T00:00Z')), 3.5 * H);
    assert.throws(() => parseHours('weekdays 9-6', []), /must look like/);
    assert.throws(() => parseHours('Mon-Fry 09:00-18:00 Asia/Hong_Kong', []), /"Fry" is not a day/);
    assert.throws(() => parseHours('Mon-Fri 18:00-09:00 Asia/Hong_Kong', []), /open before it closes/);
    assert.throws(() => parseHours('Mon-Fri 09:00-18:00 Mars/Olympus', []), /not a time zone/);
  });
});
