// The 2027 Hong Kong general holidays in the source, checked against dates worked out by hand (not
// copied from the list under test): the lunar days from the 2027 new moons in Hong Kong time, the
// Easter days from Easter Sunday (28 March 2027), and the Sunday substitutions of Cap. 149.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HK_PUBLIC_HOLIDAYS } from './hk-holidays.ts';

const weekday = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay();

describe('Hong Kong general holidays', () => {
  it('2027: every holiday on the day worked out by hand', () => {
    const expected = [
      '2027-01-01', // Friday
      // The first lunar month begins with the new moon of 6 February (Saturday): days 1-3 are
      // 6, 7, 8 February; the second day is a Sunday, so the fourth day (9th) replaces it.
      '2027-02-06',
      '2027-02-08',
      '2027-02-09',
      // Easter Sunday 28 March: Good Friday 26th, the day following 27th, Easter Monday 29th.
      '2027-03-26',
      '2027-03-27',
      '2027-03-29',
      '2027-04-05', // Ching Ming: the sun at 15° longitude on 5 April (Monday)
      '2027-05-01', // Labour Day, a Saturday: no substitute (only Sundays are replaced)
      '2027-05-13', // Buddha: 4th month from the new moon of 6 May; its 8th day
      '2027-06-09', // Tuen Ng: 5th month from the new moon of 5 June (HK time); its 5th day
      '2027-07-01', // Thursday
      '2027-09-16', // Mid-Autumn: 8th month from 1 September (HK time); the 15th is the 15th, the day after the 16th
      '2027-10-01', // Friday
      '2027-10-08', // Chung Yeung: 9th month from 30 September; its 9th day (Friday)
      '2027-12-25', // Christmas Day, a Saturday
      '2027-12-27', // the first weekday after Christmas Day: the 26th is a Sunday
    ];
    assert.deepEqual(
      HK_PUBLIC_HOLIDAYS.filter((d) => d.startsWith('2027-')),
      expected,
    );
  });

  it('lists no Sunday (a Sunday is never a business day; its substitute is listed instead)', () => {
    assert.deepEqual(
      HK_PUBLIC_HOLIDAYS.filter((d) => weekday(d) === 0),
      [],
    );
  });
});
