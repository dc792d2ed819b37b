// The desk's settings as the platform reads them at start: the business hours, extra holidays and
// the SLA watch's interval; a wrong one is named with what is wrong, before anything starts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../platform/config.ts';
import { calendarOf } from './sla.logic.ts';
import { movesFor } from './ticket.logic.ts';

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
    for (const bad of ['0', '367', 'two weeks'])
      assert.throws(
        () => loadConfig({ GOVHOST_SUPPORT_REOPEN_DAYS: bad }),
        /GOVHOST_SUPPORT_REOPEN_DAYS/,
        bad,
      );
  });

  it('reopens within GOVHOST_SUPPORT_REOPEN_DAYS of the resolution (14 by default), then only closes', () => {
    assert.equal(loadConfig({}).supportReopenDays, 14);
    const days = loadConfig({ GOVHOST_SUPPORT_REOPEN_DAYS: '30' }).supportReopenDays;
    assert.equal(days, 30);
    const dev = {
      userId: 'u',
      username: 'dev',
      role: 'dept-developer',
      departmentId: 'd',
      departmentCode: 'D',
      tokenId: 't',
      tokenScope: 'write',
    } as const;
    const now = new Date('2027-03-01T00:00:00Z');
    const resolved = (daysAgo: number) => ({
      status: 'resolved' as const,
      resolved_at: new Date(now.getTime() - daysAgo * 86_400_000),
    });
    assert.deepEqual(movesFor(dev, resolved(20), 14, now), ['closed']);
    assert.deepEqual(movesFor(dev, resolved(20), days, now), ['in-progress', 'closed']);
    assert.deepEqual(movesFor(dev, resolved(30), days, now), ['in-progress', 'closed']); // the 30th day still counts
    assert.deepEqual(movesFor(dev, resolved(30.01), days, now), ['closed']);
  });
});
