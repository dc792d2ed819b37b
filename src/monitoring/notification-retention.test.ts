// Console notifications and finished outbox rows are kept for GOVHOST_NOTIFICATION_RETENTION_DAYS,
// then deleted when alerting starts (and daily after); rows still to send, and the incidents'
// timelines, are never touched.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadSecretBox } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { startAlerting } from './alerting.start.ts';
import type { MonitoringEvents } from './monitoring.types.ts';

const DAY = 86_400_000;

describe('notification retention', () => {
  let t: TestApp;
  let admin: string;

  before(async () => {
    t = await testApp({ notificationRetentionDays: 30 });
    const dept = await t.department('NR');
    admin = (await t.user('dept-admin', dept)).token;
  });
  after(() => t.close());

  it('deletes console notifications and delivered or failed outbox rows past the retention, nothing else', async () => {
    const res = await t.request(admin, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'rates',
        nameEn: 'Rates',
        nameZh: '差餉',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const service = await t.db
      .selectFrom('services')
      .select(['id', 'department_id'])
      .where('id', '=', res.json().id)
      .executeTakeFirstOrThrow();
    const now = Date.now();
    const incident = await t.db
      .insertInto('incidents')
      .values({
        service_id: service.id,
        department_id: service.department_id,
        service_key: 'NR/rates',
        rule: 'service-down',
        alert_id: null,
        severity: 'P1',
        title: 'down',
        state: 'resolved',
        opened_at: new Date(now - 40 * DAY),
        acknowledged_at: null,
        acknowledged_by: null,
        assignee_id: null,
        assignee_name: null,
        resolved_at: new Date(now - 40 * DAY + 60_000),
        resolved_by: 'govhost',
        time_to_acknowledge_sec: null,
        time_to_resolve_sec: 60,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('incident_events')
      .values({
        incident_id: incident.id,
        kind: 'opened',
        actor_id: null,
        actor_name: 'govhost',
        detail: 'down',
        at: new Date(now - 40 * DAY),
      })
      .execute();
    const consoleRow = (label: string, ageDays: number) => ({
      department_id: service.department_id,
      incident_id: incident.id,
      event: 'incident.opened',
      severity: 'P1',
      service_key: 'NR/rates',
      message: label,
      at: new Date(now - ageDays * DAY),
    });
    await t.db
      .insertInto('console_notifications')
      .values([consoleRow('old', 31), consoleRow('young', 29)])
      .execute();
    const channel = await t.db
      .insertInto('notification_channels')
      .values({
        department_id: service.department_id,
        kind: 'webhook',
        // Never called: the dispatcher has nothing due (the pending row waits for next week).
        url: 'https://203.0.113.9/hook',
        addresses: null,
        secret_sealed: 'unused',
        min_severity: null,
        created_by: 'test',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const outbox = async (label: string, state: 'pending' | 'delivered' | 'failed', ageDays: number) => {
      const row = await t.db
        .insertInto('notification_outbox')
        .values({
          channel_id: channel.id,
          incident_id: incident.id,
          event: 'incident.opened',
          body: label,
          state,
          next_attempt_at: new Date(now + 7 * DAY),
          lease_until: null,
          last_error: null,
          delivered_at: state === 'delivered' ? new Date(now - ageDays * DAY) : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await sql`update notification_outbox set created_at = ${new Date(now - ageDays * DAY)} where id = ${row.id}`.execute(
        t.db,
      );
    };
    await outbox('delivered-old', 'delivered', 31);
    await outbox('failed-old', 'failed', 31);
    await outbox('pending-old', 'pending', 31);
    await outbox('delivered-young', 'delivered', 29);

    const alerting = await startAlerting({
      db: t.db,
      config: t.config,
      box: loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined),
      events: new EventEmitter<MonitoringEvents>(),
      log: { info() {}, warn() {}, error() {} },
    });
    // stop() waits for the pass that start() began.
    await alerting.stop();

    const list = await t.request(admin, { method: 'GET', url: '/api/v1/notifications' });
    assert.deepEqual(
      list.json().items.map((n: { message: string }) => n.message),
      ['young'],
    );
    const left = await t.db.selectFrom('notification_outbox').select('body').orderBy('body').execute();
    assert.deepEqual(
      left.map((r) => r.body),
      ['delivered-young', 'pending-old'],
    );
    const timeline = await t.db
      .selectFrom('incident_events')
      .select('kind')
      .where('incident_id', '=', incident.id)
      .execute();
    assert.equal(timeline.length, 1, "the incident's timeline is the record and stays");
  });
});
