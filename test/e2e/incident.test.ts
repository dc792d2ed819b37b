// Monitoring end to end, as issue 4 asks: a deployed service fails, the alert fires within two
// probe intervals, an incident opens, a signed webhook reaches a real HTTP receiver and an e-mail
// a real SMTP server; the service recovers, the incident resolves with its duration recorded.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { type NotificationPayload, verifyWebhook } from '../../src/monitoring/notification.senders.ts';
import {
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { until as waitFor } from '../../src/test-support/until.ts';
import { type Api, apiClient, closeAgent, deployDir, untilServed } from './runtime-helpers.ts';

const until = <T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms = 20_000,
) => waitFor(what, check, ms);

const PROBE_INTERVAL_MS = 1000;
const CLEAR_SECONDS = 2;
const work = mkdtempSync(join(tmpdir(), 'govhost-incident-e2e-'));
// The service runs as its own OS user (when the tests run as root): it must be able to look in.
chmodSync(work, 0o755);
// Readable by the service's own OS user: the app checks whether this file exists.
const failFlag = join(work, 'fail-now');
const DEPT = 'INC';
const SERVICE = `${DEPT}/counter`;
const HOST = `counter.${DEPT.toLowerCase()}.localhost`;

interface Hook {
  payload: NotificationPayload;
  verified: boolean;
  at: number;
}

describe('an outage from failure to resolution', () => {
  let server: GovhostProcess;
  let url: string;
  let routerUrl: string;
  let api: Api;
  let adminToken: string;
  let webhookSecret = '';
  const hooks: Hook[] = [];
  const mails: { subject: string; to: string; text: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const verified = verifyWebhook(
        webhookSecret,
        {
          timestamp: req.headers['x-govhost-timestamp'] as string | undefined,
          signature: req.headers['x-govhost-signature'] as string | undefined,
        },
        body,
      );
      hooks.push({ payload: JSON.parse(body), verified, at: Date.now() });
      res.writeHead(verified ? 200 : 401).end();
    });
  });
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        const subject = /^Subject: (.*)$/im.exec(raw)?.[1] ?? '';
        mails.push({ subject, to: session.envelope.rcptTo.map((r) => r.address).join(','), text: raw });
        done();
      });
    },
  });

  before(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    const started = await startServer(
      cleanEnv({
        GOVHOST_DATA_DIR: join(work, 'data'),
        GOVHOST_PORT: '0',
        GOVHOST_ROUTER_PORT: '0',
        GOVHOST_ROUTER_ADMIN_PORT: '0',
        GOVHOST_LOG_LEVEL: 'info',
        GOVHOST_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS),
        GOVHOST_PROBE_TIMEOUT_MS: '500',
        GOVHOST_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        GOVHOST_MAIL_FROM: 'monitoring@govhost.test',
        // The webhook receiver is on loopback: webhooks reach it only because this allows it.
        GOVHOST_WEBHOOK_ALLOW: '127.0.0.1',
      }),
    );
    server = started.proc;
    url = started.url;
    assert.ok(started.routerUrl && started.token, 'the platform printed its router address and first token');
    routerUrl = started.routerUrl;
    adminToken = started.token;
    api = apiClient(url, adminToken);
    const dept = await api('POST', '/departments', { code: DEPT, nameEn: 'Incident Dept', nameZh: '事故部' });
    assert.equal(dept.status, 201, JSON.stringify(dept.json));
    const svc = await api('POST', '/services', {
      department: DEPT,
      slug: 'counter',
      nameEn: 'Counter',
      nameZh: '櫃檯',
      origin: 'new',
      channels: ['web'],
      slaTier: 'gold',
    });
    assert.equal(svc.status, 201, JSON.stringify(svc.json));
    const hook = await api('POST', '/notification-channels', {
      kind: 'webhook',
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/govhost`,
      department: DEPT,
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.json));
    webhookSecret = hook.json.secret;
    // The alert clears after two probe intervals of good probes rather than gold's 30 s.
    const clear = await api('PUT', `/services/${SERVICE}/alert-rules/service-down`, {
      clearSeconds: CLEAR_SECONDS,
    });
    assert.equal(clear.status, 200, JSON.stringify(clear.json));
    const mail = await api('POST', '/notification-channels', {
      kind: 'email',
      addresses: ['oncall@inc.gov.test'],
      department: DEPT,
    });
    assert.equal(mail.status, 201, JSON.stringify(mail.json));

    // A service that answers 500 to everything while the flag file exists. Its health check is
    // `process`, so the runtime keeps it in the routes: citizens (and the probe) see the 500s.
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'server.js'),
      [
        "const http = require('node:http');",
        "const fs = require('node:fs');",
        'http.createServer((req, res) => {',
        '  const failing = fs.existsSync(process.env.FAIL_FLAG);',
        "  res.writeHead(failing ? 500 : 200, { 'content-type': 'text/plain' });",
        "  res.end(failing ? 'broken\\n' : 'counter open\\n');",
        '}).listen(Number(process.env.PORT), "127.0.0.1");',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'manifest.yml'),
      [
        'applications:',
        '  - name: counter',
        '    memory: 64M',
        '    health-check-type: process',
        '    command: node server.js',
        '    env:',
        `      FAIL_FLAG: ${failFlag}`,
      ].join('\n'),
    );
    const deployed = await deployDir(url, api, adminToken, SERVICE, app);
    assert.equal(deployed.deployment.state, 'succeeded', deployed.deployment.message);
    await untilServed(routerUrl, HOST, (r) => r.status === 200);
  });

  after(async () => {
    closeAgent();
    await stopProcess(server);
    await new Promise<void>((r) => receiver.close(() => r()));
    await new Promise<void>((r) => smtp.close(() => r()));
    rmSync(work, { recursive: true, force: true });
  });

  it('fires, opens an incident, notifies by webhook and e-mail, and resolves on recovery', async (t) => {
    // The engine has seen the service up before it fails.
    await until('a successful probe', async () => {
      const m = await api('GET', `/services/${SERVICE}/metrics`);
      return m.json?.current?.state === 'up';
    });

    writeFileSync(failFlag, 'x');
    const failedAt = Date.now();
    const alert = await until('the service-down alert', async () => {
      const res = await api('GET', `/alerts?state=firing&service=${SERVICE}`);
      return res.json.items.find((a: { rule: string }) => a.rule === 'service-down');
    });
    // How fast is bench/detection.mjs's business (a wall-clock bound here only measures the
    // machine's load); what holds on any machine is that this alert is about this failure.
    t.diagnostic(`alert fired ${Date.now() - failedAt} ms after the failure`);
    assert.ok(Date.parse(alert.startedAt) >= failedAt - 1000, 'the alert started with this failure');

    const open = (await api('GET', `/incidents?state=open&service=${SERVICE}`)).json.items;
    assert.equal(open.length, 1, JSON.stringify(open));
    const incident = open[0];
    assert.equal(incident.severity, 'P1', 'service down on a gold-tier service');
    assert.equal(incident.rule, 'service-down');
    assert.ok(alert);

    const opened = await until('the incident.opened webhook', async () =>
      hooks.find((h) => h.payload.event === 'incident.opened'),
    );
    assert.equal(opened.verified, true, 'the webhook carries a valid HMAC signature');
    assert.equal(opened.payload.incidentId, incident.id);
    assert.equal(opened.payload.service, SERVICE);
    const mail = await until('the e-mail', async () => mails.find((m) => /P1/.test(m.subject)));
    assert.equal(mail.to, 'oncall@inc.gov.test');
    assert.match(mail.subject, /counter/i);

    rmSync(failFlag);
    const recoveredAt = Date.now();
    const resolved = await until('the incident to resolve', async () => {
      const res = await api('GET', `/incidents/${incident.id}`);
      return res.json.state === 'resolved' ? res.json : null;
    });
    // Not before the clear duration had run out (the hysteresis holds), whatever the load.
    const resolvedSeenMs = Date.now() - recoveredAt;
    t.diagnostic(`resolved ${resolvedSeenMs} ms after the recovery`);
    assert.ok(resolvedSeenMs >= CLEAR_SECONDS * 1000, 'resolved only after the clear duration');
    // Dated at the first good probe, before the clear duration ran out.
    assert.ok(
      Date.parse(resolved.resolvedAt) <= Date.now() - CLEAR_SECONDS * 1000,
      'the resolution is dated when the service answered again',
    );
    assert.equal(resolved.resolvedBy, 'govhost', 'resolved by the platform, not by a person');
    assert.equal(typeof resolved.timeToResolveSec, 'number');
    const seconds = (Date.parse(resolved.resolvedAt) - Date.parse(resolved.openedAt)) / 1000;
    assert.ok(Math.abs(resolved.timeToResolveSec - seconds) <= 1, 'the recorded duration matches its times');
    assert.ok(
      resolved.timeline.some((e: { kind: string }) => e.kind === 'resolved'),
      JSON.stringify(resolved.timeline),
    );
    await until('the incident.resolved webhook', async () =>
      hooks.find((h) => h.payload.event === 'incident.resolved' && h.verified),
    );

    // The outage is the record of downtime: closed, and no longer firing.
    const firing = (await api('GET', `/alerts?state=firing&service=${SERVICE}`)).json.items;
    assert.equal(firing.length, 0);
  });
});
