import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { loadSecretBox } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { until } from '../test-support/until.ts';
import { type RunningAlerting, startAlerting } from './alerting.start.ts';
import type { MonitoringEvents, ServiceSnapshot } from './monitoring.types.ts';
import { NotificationDispatcher } from './notification.dispatcher.ts';
import { type NotificationPayload, verifyWebhook } from './notification.senders.ts';

interface Received {
  payload: NotificationPayload;
  verified: boolean;
}

/** A real webhook receiver on loopback that checks every signature with the exported verifier. */
function receiver(secret: () => string) {
  const got: Received[] = [];
  const statuses: number[] = [];
  let answers: number[] = [];
  let fallback = 200;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const verified = verifyWebhook(
        secret(),
        {
          timestamp: req.headers['x-govhost-timestamp'] as string | undefined,
          signature: req.headers['x-govhost-signature'] as string | undefined,
        },
        body,
      );
      const status = answers.shift() ?? fallback;
      statuses.push(status);
      if (status === 200) got.push({ payload: JSON.parse(body), verified });
      res.writeHead(verified ? status : 401).end();
    });
  });
  return {
    server,
    got,
    statuses,
    /** The next answers, then `then` for every later request. */
    answer(next: number[], then = 200) {
      answers = [...next];
      fallback = then;
    },
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/govhost`,
  };
}

const T0 = Date.now();

function snapshot(
  svc: { id: string; departmentId: string; key: string },
  over: Partial<ServiceSnapshot>,
  at: number,
) {
  return {
    serviceId: svc.id,
    departmentId: svc.departmentId,
    key: svc.key,
    tier: 'gold',
    state: 'up',
    downSince: null,
    lastProbe: { at, ok: true, status: 200, ms: 5, error: null },
    consecutiveFailures: 0,
    traffic: { windowSec: 300, requests: 0, errors5xx: 0, p50Ms: null, p95Ms: null, p99Ms: null },
    instances: [
      {
        instanceId: 'i-1',
        state: 'healthy',
        restarts: 0,
        memoryBytes: 50 * 2 ** 20,
        memoryLimitBytes: 256 * 2 ** 20,
        cpu: 0.02,
      },
    ],
    at,
    ...over,
  } satisfies ServiceSnapshot;
}

const down = (svc: Parameters<typeof snapshot>[0], at: number) =>
  snapshot(
    svc,
    {
      state: 'down',
      downSince: at - 10_000,
      consecutiveFailures: 2,
      lastProbe: { at, ok: false, status: 503, ms: 3, error: 'HTTP 503' },
    },
    at,
  );

describe('alerts, incidents and notifications', () => {
  let t: TestApp;
  let ours: string;
  let theirs: string;
  let operator: { username: string; token: string };
  let admin: { username: string; token: string };
  let developer: { username: string; token: string };
  let otherAdmin: { username: string; token: string };
  let svc: { id: string; departmentId: string; key: string };
  let hookSecret = '';
  const hook = receiver(() => hookSecret);
  const mails: { raw: string; to: string[] }[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        mails.push({ raw, to: session.envelope.rcptTo.map((r) => r.address) });
        done();
      });
    },
  });
  const events = new EventEmitter<MonitoringEvents>();
  let alerting: RunningAlerting;
  const log = { info() {}, warn() {}, error() {} };
  const start = () =>
    startAlerting({
      db: t.db,
      config: t.config,
      box: loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined),
      events,
      log,
      dispatcher: { pollMs: 50, retryDelaysMs: [100, 200], timeoutMs: 2000 },
    });
  const get = async (token: string, url: string) => {
    const res = await t.request(token, { method: 'GET', url });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };

  before(async () => {
    await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    t = await testApp({
      smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
      mailFrom: 'ops@gov.example',
      // The receiver is on loopback, which webhooks reach only when the operator allows it.
      webhookAllow: ['127.0.0.1'],
    });
    ours = await t.department('OUR');
    theirs = await t.department('THR');
    operator = await t.user('operator');
    admin = await t.user('dept-admin', ours);
    developer = await t.user('dept-developer', ours);
    otherAdmin = await t.user('dept-admin', theirs);
    const res = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'etax',
        nameEn: 'eTAX',
        nameZh: '電子稅務',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const dept = await t.db
      .selectFrom('departments')
      .select('id')
      .where('code', '=', ours)
      .executeTakeFirstOrThrow();
    svc = { id: res.json().id, departmentId: dept.id, key: `${ours}/etax` };
  });

  after(async () => {
    // The store last: one that fails to close must not leave the servers holding the process.
    await alerting?.stop();
    hook.server.close();
    await new Promise<void>((r) => smtp.close(() => r()));
    await t.close();
  });

  it('shows tier defaults, stores overrides for the department, and refuses others', async () => {
    const rules = await get(developer.token, `/api/v1/services/${ours}/etax/alert-rules`);
    const byRule = Object.fromEntries(rules.items.map((r: { rule: string }) => [r.rule, r]));
    assert.equal(byRule['error-rate'].threshold, 1);
    assert.equal(byRule['service-down'].severity, 'P1');

    const url = `/api/v1/services/${ours}/etax/alert-rules/latency`;
    assert.deepEqual(byRule['service-down'].defaults, { threshold: null, forSeconds: 0, clearSeconds: 30 });
    const put = await t.request(admin.token, {
      method: 'PUT',
      url,
      payload: { threshold: 500, forSeconds: 60, clearSeconds: 180 },
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual(
      [put.json().threshold, put.json().forSeconds, put.json().clearSeconds, put.json().source],
      [500, 60, 180, 'override'],
    );
    const off = await t.request(admin.token, { method: 'PUT', url, payload: { enabled: false } });
    assert.deepEqual(
      [off.json().enabled, off.json().threshold, off.json().clearSeconds],
      [false, 500, 180],
      'fields not given are kept',
    );
    const negative = await t.request(admin.token, { method: 'PUT', url, payload: { clearSeconds: -1 } });
    assert.equal(negative.statusCode, 400);

    const dev = await t.request(developer.token, { method: 'PUT', url, payload: { threshold: 1 } });
    assert.equal(dev.statusCode, 403);
    const other = await t.request(otherAdmin.token, { method: 'PUT', url, payload: { threshold: 1 } });
    assert.equal(other.statusCode, 404);
    const bad = await t.request(admin.token, {
      method: 'PUT',
      url: `/api/v1/services/${ours}/etax/alert-rules/service-down`,
      payload: { threshold: 3 },
    });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().code, 'GOVHOST_ALERT_RULE_INVALID');
    const unknown = await t.request(admin.token, { method: 'PUT', url: `${url}x`, payload: {} });
    assert.equal(unknown.statusCode, 400);

    const reset = await t.request(admin.token, { method: 'DELETE', url });
    assert.deepEqual(
      [reset.json().threshold, reset.json().clearSeconds, reset.json().source, reset.json().enabled],
      [1000, 60, 'default', true],
    );
    const audit = await get(t.adminToken, '/api/v1/audit');
    assert.ok(audit.items.some((a: { action: string }) => a.action === 'alert-rule.reset'));
  });

  it('adds channels: the webhook secret once, e-mail, and a department sees only its own', async () => {
    const res = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/notification-channels',
      payload: { kind: 'webhook', url: hook.url() },
    });
    assert.equal(res.statusCode, 201, res.body);
    hookSecret = res.json().secret;
    assert.match(hookSecret, /^whsec_/);
    assert.equal(res.json().channel.department, ours);
    const stored = await t.db
      .selectFrom('notification_channels')
      .select('secret_sealed')
      .executeTakeFirstOrThrow();
    assert.ok(!stored.secret_sealed?.includes(hookSecret), 'the secret is stored sealed');

    const mail = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/notification-channels',
      payload: { kind: 'email', addresses: ['oncall@ird.gov.example'], minSeverity: 'P2' },
    });
    assert.equal(mail.statusCode, 201, mail.body);
    assert.equal(mail.json().secret, null);

    const planted = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/notification-channels',
      payload: { kind: 'webhook', url: hook.url(), department: theirs },
    });
    assert.equal(planted.statusCode, 404);
    const wide = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/notification-channels',
      payload: { kind: 'webhook', url: hook.url(), department: null },
    });
    assert.equal(wide.statusCode, 403);
    const noUrl = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/notification-channels',
      payload: { kind: 'webhook', addresses: ['a@b.example'] },
    });
    assert.equal(noUrl.statusCode, 400);

    assert.equal((await get(otherAdmin.token, '/api/v1/notification-channels')).items.length, 0);
    assert.equal((await get(operator.token, '/api/v1/notification-channels')).items.length, 2);
    const id = res.json().channel.id;
    const steal = await t.request(otherAdmin.token, {
      method: 'DELETE',
      url: `/api/v1/notification-channels/${id}`,
    });
    assert.equal(steal.statusCode, 404);

    const test = await t.request(admin.token, {
      method: 'POST',
      url: `/api/v1/notification-channels/${id}/test`,
    });
    assert.equal(test.statusCode, 200, test.body);
    const got = hook.got.at(-1);
    assert.equal(got?.payload.event, 'test');
    assert.equal(got?.verified, true);
  });

  it('a service going down opens a P1 incident and notifies, retrying after a 500', async () => {
    alerting = await start();
    hook.answer([500]);
    const before = hook.got.length;
    events.emit('snapshot', snapshot(svc, {}, T0));
    events.emit('snapshot', down(svc, T0 + 10_000));
    const incident = await until('an open incident', async () => {
      const list = await get(developer.token, '/api/v1/incidents');
      return list.items[0];
    });
    assert.equal(incident.severity, 'P1');
    assert.equal(incident.rule, 'service-down');
    assert.equal(incident.state, 'open');
    const alerts = await get(developer.token, `/api/v1/alerts?service=${ours}/etax`);
    assert.equal(alerts.items.length, 1);
    assert.match(alerts.items[0].message, /down \(2 failed probes: HTTP 503\)/);

    const opened = await until('the webhook after a retry', () =>
      hook.got.slice(before).find((g) => g.payload.event === 'incident.opened'),
    );
    assert.equal(opened.verified, true);
    assert.equal(opened.payload.incidentId, incident.id);
    assert.equal(opened.payload.severity, 'P1');
    assert.equal(opened.payload.service, `${ours}/etax`);
    assert.ok(hook.statuses.includes(500), 'the receiver first refused');
    const mail = await until('the e-mail', () => mails.find((m) => /OPEN/.test(m.raw)));
    assert.deepEqual(mail.to, ['oncall@ird.gov.example']);
    assert.match(mail.raw, new RegExp(`Subject: \\[GovHost P1\\] ${ours}/etax OPEN: service-down`));
    assert.match(mail.raw, /From: ops@gov\.example/);
    assert.match(mail.raw, /Severity:\s+P1/);

    // Still down: the same alert keeps firing, nothing new is opened.
    events.emit('snapshot', down(svc, T0 + 20_000));
    assert.equal((await get(operator.token, '/api/v1/incidents?state=all')).total, 1);
  });

  it('operators acknowledge, assign and annotate; a developer may not; another department sees nothing', async () => {
    const [incident] = (await get(operator.token, '/api/v1/incidents')).items;
    const url = `/api/v1/incidents/${incident.id}`;
    const dev = await t.request(developer.token, { method: 'POST', url: `${url}/acknowledge` });
    assert.equal(dev.statusCode, 403);
    assert.equal((await t.request(otherAdmin.token, { method: 'GET', url })).statusCode, 404);
    assert.equal((await get(otherAdmin.token, '/api/v1/incidents?state=all')).total, 0);
    assert.equal((await get(otherAdmin.token, '/api/v1/alerts?state=all')).total, 0);
    assert.equal((await get(otherAdmin.token, '/api/v1/notifications')).total, 0);
    const cross = await t.request(otherAdmin.token, {
      method: 'GET',
      url: `/api/v1/incidents?service=${ours}/etax`,
    });
    assert.equal(cross.statusCode, 404);

    const ack = await t.request(operator.token, { method: 'POST', url: `${url}/acknowledge` });
    assert.equal(ack.statusCode, 200, ack.body);
    assert.equal(ack.json().acknowledgedBy, operator.username);
    assert.ok(ack.json().timeToAcknowledgeSec >= 0);
    const again = await t.request(operator.token, { method: 'POST', url: `${url}/acknowledge` });
    assert.equal(again.statusCode, 409);
    const assign = await t.request(operator.token, {
      method: 'POST',
      url: `${url}/assign`,
      payload: { user: admin.username },
    });
    assert.equal(assign.json().assignee, admin.username);
    const outsider = await t.request(operator.token, {
      method: 'POST',
      url: `${url}/assign`,
      payload: { user: otherAdmin.username },
    });
    assert.equal(outsider.statusCode, 400);
    const note = await t.request(operator.token, {
      method: 'POST',
      url: `${url}/notes`,
      payload: { text: 'database failover in progress' },
    });
    assert.equal(note.statusCode, 200, note.body);
    const audit = await get(t.adminToken, '/api/v1/audit');
    const actions = audit.items.map((a: { action: string }) => a.action);
    for (const a of ['incident.acknowledge', 'incident.assign', 'incident.note'])
      assert.ok(actions.includes(a), a);
  });

  it('the service coming back resolves the incident with its duration and timeline', async () => {
    const [open] = (await get(operator.token, '/api/v1/incidents')).items;
    // Gold service-down clears after 30 s of good probes: the first one starts the clock.
    events.emit('snapshot', snapshot(svc, {}, T0 + 70_000));
    events.emit('snapshot', snapshot(svc, {}, T0 + 90_000));
    assert.equal((await get(developer.token, `/api/v1/incidents/${open.id}`)).state, 'open');
    events.emit('snapshot', snapshot(svc, {}, T0 + 100_000));
    const resolved = await until('the incident resolved', async () => {
      const i = await get(developer.token, `/api/v1/incidents/${open.id}`);
      return i.state === 'resolved' &&
        i.timeline.some(
          (e: { kind: string; detail: string }) => e.kind === 'notified' && /resolved/.test(e.detail),
        )
        ? i
        : null;
    });
    // Dated at the first good probe, not at the end of the clear duration.
    assert.equal(resolved.timeToResolveSec, 60);
    assert.equal(resolved.resolvedBy, 'govhost');
    const kinds = resolved.timeline.map((e: { kind: string }) => e.kind);
    for (const k of ['opened', 'acknowledged', 'assigned', 'note', 'notified', 'resolved'])
      assert.ok(kinds.includes(k), k);
    assert.equal(kinds[0], 'opened');
    assert.equal((await get(developer.token, '/api/v1/alerts')).total, 0);
    assert.equal(
      (await get(developer.token, '/api/v1/alerts?state=resolved')).items[0].resolvedAt !== null,
      true,
    );
    const webhookResolved = await until('resolved webhook', () =>
      hook.got.find((g) => g.payload.event === 'incident.resolved'),
    );
    assert.equal(webhookResolved.payload.timeToResolveSec, 60);
    await until('resolved e-mail', () => mails.find((m) => /RESOLVED/.test(m.raw)));
    const consoleItems = (await get(admin.token, '/api/v1/notifications')).items;
    assert.ok(consoleItems.some((n: { event: string }) => n.event === 'incident.resolved'));
    // Every delivery reached the receiver once: the outbox never sends a delivered row again.
    const ids = hook.got.map((g) => g.payload.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('fired again soon after it cleared, the same incident reopens and is told as reopened', async () => {
    const [first] = (await get(operator.token, '/api/v1/incidents?state=all')).items;
    // Resolved at T0+70 s; down again 130 s later, inside the reopen window.
    events.emit('snapshot', down(svc, T0 + 200_000));
    const reopened = await until('the incident reopened', async () => {
      const i = await get(developer.token, `/api/v1/incidents/${first.id}`);
      return i.state === 'open' ? i : null;
    });
    assert.equal(reopened.resolvedAt, null);
    assert.equal(reopened.timeToResolveSec, null);
    assert.equal(reopened.acknowledgedBy, operator.username, 'the acknowledgement is kept');
    const step = reopened.timeline.find((e: { kind: string }) => e.kind === 'reopened');
    assert.match(step.detail, /^fired again 130 s after it cleared: /);
    assert.equal((await get(operator.token, '/api/v1/incidents?state=all')).total, 1);
    const told = await until('the reopened webhook', () =>
      hook.got.find((g) => g.payload.event === 'incident.reopened'),
    );
    assert.equal(told.payload.incidentId, first.id);
    assert.equal(told.payload.state, 'open');
    await until('the reopened e-mail', () => mails.find((m) => /REOPENED: service-down/.test(m.raw)));
    const consoleItems = (await get(admin.token, '/api/v1/notifications')).items;
    assert.ok(consoleItems.some((n: { event: string }) => n.event === 'incident.reopened'));

    events.emit('snapshot', snapshot(svc, {}, T0 + 210_000));
    events.emit('snapshot', snapshot(svc, {}, T0 + 240_000));
    const again = await until('resolved again', async () => {
      const i = await get(developer.token, `/api/v1/incidents/${first.id}`);
      return i.state === 'resolved' ? i : null;
    });
    assert.equal(again.timeToResolveSec, 200, 'from the first opening to the last recovery');
  });

  it('keeps firing across a restart, sends what was pending, and resolves an unwatched service', async () => {
    hook.answer([], 503); // the receiver is down for now
    // Far past the reopen window of the last resolution: a new incident.
    events.emit('snapshot', down(svc, T0 + 1_100_000));
    const incident = await until(
      'a second incident',
      async () => (await get(operator.token, '/api/v1/incidents')).items[0],
    );
    await until('a failed attempt', () => hook.statuses.includes(503));
    await alerting.stop();
    const pending = await t.db
      .selectFrom('notification_outbox')
      .select(['state', 'attempts'])
      .where('incident_id', '=', incident.id)
      .execute();
    assert.ok(pending.length > 0 && pending.every((p) => p.state === 'pending' || p.state === 'delivered'));

    hook.answer([], 200);
    alerting = await start();
    assert.deepEqual(alerting.firing(), [{ serviceId: svc.id, rule: 'service-down' }]);
    await until('the pending webhook after the restart', () =>
      hook.got.find((g) => g.payload.event === 'incident.opened' && g.payload.incidentId === incident.id),
    );
    // Still down after the restart: no second alert.
    events.emit('snapshot', down(svc, T0 + 1_110_000));
    events.emit('unwatched', { serviceId: svc.id, at: T0 + 1_120_000 });
    const resolved = await until('resolved by unwatch', async () => {
      const i = await get(operator.token, `/api/v1/incidents/${incident.id}`);
      return i.state === 'resolved' ? i : null;
    });
    assert.equal(resolved.timeToResolveSec, 20);
    assert.equal((await get(operator.token, '/api/v1/alerts?state=all')).total, 3);
    assert.deepEqual(alerting.firing(), []);
  });

  it('two dispatchers on one store never send a row twice', async () => {
    await until('the outbox drained', async () => {
      const left = await t.db
        .selectFrom('notification_outbox')
        .select('id')
        .where('state', 'in', ['pending', 'sending'])
        .execute();
      return left.length === 0;
    });
    await alerting.stop();
    // Queue a fresh incident with the dispatchers stopped.
    const { AlertEvaluator } = await import('./alert.engine.ts');
    const evaluator = new AlertEvaluator({ db: t.db, log });
    await evaluator.start(events);
    events.emit('snapshot', down(svc, T0 + 2_000_000));
    await until('queued rows', async () => {
      const rows = await t.db
        .selectFrom('notification_outbox')
        .select('id')
        .where('state', '=', 'pending')
        .execute();
      return rows.length > 0 ? rows : null;
    });
    await evaluator.stop();
    const before = hook.got.length;
    const box = loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined);
    const a = new NotificationDispatcher({ db: t.db, box, config: t.config, log, pollMs: 10 });
    const b = new NotificationDispatcher({ db: t.db, box, config: t.config, log, pollMs: 10 });
    a.start();
    b.start();
    await until('delivered', async () => {
      const left = await t.db
        .selectFrom('notification_outbox')
        .select('id')
        .where('state', '<>', 'delivered')
        .execute();
      return left.length === 0;
    });
    await Promise.all([a.stop(), b.stop()]);
    const fresh = hook.got.slice(before).map((g) => g.payload.id);
    assert.equal(fresh.length, 1);
    assert.equal(mails.filter((m) => / OPEN: /.test(m.raw)).length, 3, 'one e-mail per opened incident');
  });

  it('a crash-looping bronze instance opens a P4 incident; a notification failing for a day is given up', async () => {
    const res = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'rates',
        nameEn: 'Rates',
        nameZh: '差餉',
        origin: 'new',
        channels: ['web'],
        slaTier: 'bronze',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const rates = { ...svc, id: res.json().id, key: `${ours}/rates` };
    const { AlertEvaluator } = await import('./alert.engine.ts');
    const evaluator = new AlertEvaluator({ db: t.db, log });
    await evaluator.start(events);
    const looping = snapshot(
      rates,
      {
        tier: 'bronze',
        instances: [
          {
            instanceId: 'r-1',
            state: 'crash-loop',
            restarts: 6,
            memoryBytes: null,
            memoryLimitBytes: 1,
            cpu: null,
          },
        ],
      },
      T0 + 300_000,
    );
    events.emit('snapshot', looping);
    const incident = await until(
      'a crash-loop incident',
      async () => (await get(developer.token, `/api/v1/incidents?service=${ours}/rates`)).items[0],
    );
    await evaluator.stop();
    assert.equal(incident.severity, 'P4');
    assert.equal(incident.rule, 'crash-loop');
    assert.match(incident.title, /r-1: 6 restarts/);
    const rows = await t.db
      .selectFrom('notification_outbox')
      .selectAll()
      .where('incident_id', '=', incident.id)
      .execute();
    assert.equal(rows.length, 1, 'the e-mail channel wants P2 or worse: only the webhook is told');

    hook.answer([], 500);
    const errors: unknown[] = [];
    const d = new NotificationDispatcher({
      db: t.db,
      box: loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined),
      config: t.config,
      log: { ...log, error: (obj: unknown) => errors.push(obj) },
      pollMs: 10,
      giveUpAfterMs: 0,
    });
    d.start();
    const failed = await until('the row given up', async () => {
      const r = await t.db
        .selectFrom('notification_outbox')
        .selectAll()
        .where('id', '=', rows[0]?.id ?? '')
        .executeTakeFirst();
      return r?.state === 'failed' ? r : null;
    });
    await d.stop();
    assert.equal(failed.last_error, 'HTTP 500');
    assert.equal(failed.attempts, 1);
    assert.equal(errors.length, 1, 'the give-up is logged as an error');
  });
});
