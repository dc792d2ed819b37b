// The desk's settings as the platform reads them at start: the business hours, extra holidays and
// the SLA watch's interval; a wrong one is named with what is wrong, before anything starts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../platform/config.ts';
import { calendarOf } from './sla.logic.ts';

describe('support desk configuration', () => {
  it('defaults to Hong Kong business hours and reads other hours and extra holidays', () => {
    assert.equal(loadConfig({}).supportHours, 'Mon-Fri 09:00-18:00 Asia/Hong_Kong');
    const c = loadConfig({
      GOVHOST_SUPPORT_HOURS: 'Mon-Sat 08:00-20:00 Asia/Hong_Kong',
      GOVHOST_SUPPORT_HOLIDAYS: '2026-12-24, 2026-12-31',
      GOVHOST_SUPPORT_CHECK_SECONDS: '5',
    });
    assert.deepEqual(c.supportHolidays, ['2026-12-24', '2026-12-31']);
    assert.equal(c.supportCheckSeconds, 5);
    const cal = calendarOf(c);
    assert.ok(cal.days.has(6) && !cal.days.has(0));
    assert.ok(cal.holidays.has('2026-12-24') && cal.holidays.has('2026-10-01'));
  });

  it('names a wrong setting', () => {
    assert.throws(
      () => loadConfig({ GOVHOST_SUPPORT_HOURS: '9 to 6' }),
      /GOVHOST_SUPPORT_HOURS.*must look like/s,
    );
    assert.throws(
      () => loadConfig({ GOVHOST_SUPPORT_HOURS: 'Mon-Fri 09:00-18:00 Asia/Atlantis' }),
      /GOVHOST_SUPPORT_HOURS.*not a time zone/s,
    );
    assert.throws(
      () => loadConfig({ GOVHOST_SUPPORT_HOLIDAYS: '24/12/2026' }),
      /GOVHOST_SUPPORT_HOLIDAYS.*not a day/s,
    );
    assert.throws(() => loadConfig({ GOVHOST_SUPPORT_CHECK_SECONDS: '0' }), /GOVHOST_SUPPORT_CHECK_SECONDS/);
  });
});
