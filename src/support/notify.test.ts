// Who hears of a ticket's changes, by e-mail at their own address through the outbox and a real
// SMTP server on loopback: the raiser and the watchers, for every public change (comment, move,
// assignment, SLA breach), never the person who made the change, never for an internal comment,
// never a bystander of the department, nor a watcher whose account is disabled.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { NotificationDispatcher } from '../monitoring/notification.dispatcher.ts';
import { loadSecretBox } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { checkSla } from './sla.job.ts';

describe('ticket notifications to people', () => {
  let t: TestApp;
  let a: string;
  let raiser: { username: string; token: string };
  let watcher: { username: string; token: string };
  let bystander: { username: string; token: string };
  let op: { username: string; token: string };
  let dispatcher: NotificationDispatcher;
  const mails: { to: string[]; raw: string }[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => {
        raw += c;
      });
      stream.on('end', () => {
        mails.push({ raw, to: session.envelope.rcptTo.map((r) => r.address).sort() });
        done();
      });
    },
  });
  const mail = (u: { username: string }) => `${u.username}@dept.example`;
  const call = async (token: string, method: string, url: string, payload?: unknown) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.body}`);
    return res.json();
  };
  /** The people's e-mails queued since `from` (outbox rows addressed to people, in order). */
  let seen = 0;
  const queued = async () => {
    const rows = await t.db
      .selectFrom('notification_outbox')
      .select(['addresses', 'event', 'body'])
      .where('addresses', 'is not', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const fresh = rows.slice(seen);
    seen = rows.length;
    return fresh.map((r) => ({ to: r.addresses, event: r.event, message: JSON.parse(r.body).message }));
  };

  before(async () => {
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    t = await testApp({
      smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      mailFrom: 'desk@gov.example',
    });
    a = await t.department('NA');
    raiser = await t.user('dept-developer', a);
    watcher = await t.user('dept-developer', a);
    bystander = await t.user('dept-developer', a);
    op = await t.user('operator');
    // Gold: 24x7 clocks, so the imported ticket below is past both targets at any hour.
    await call(raiser.token, 'POST', '/services', {
      department: a,
      slug: 'records',
      nameEn: 'Records',
      nameZh: '紀錄',
      origin: 'new',
      channels: ['web'],
      slaTier: 'gold',
    });
    for (const u of [raiser, watcher, bystander, op])
      await call(t.adminToken, 'PATCH', `/users/${u.username}`, { email: mail(u) });
    dispatcher = new NotificationDispatcher({
      db: t.db,
      box: loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined),
      config: t.config,
      log: { info() {}, warn() {}, error() {} },
      pollMs: 50,
    });
    dispatcher.start();
  });
  after(async () => {
    await dispatcher?.stop();
    await t?.close();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  it('tells the raiser and watchers of public changes, less whoever made them', async () => {
    const ticket = await call(raiser.token, 'POST', '/tickets', {
      kind: 'question',
      priority: 'P3',
      title: 'How do we rotate keys?',
      description: 'Asking for the permits service.',
      watchers: [watcher.username],
    });
    const id = ticket.id as number;
    // The raise: the watcher hears of it; the raiser made it.
    assert.deepEqual(await queued(), [
      {
        to: [mail(watcher)],
        event: 'ticket.updated',
        message: `${raiser.username} raised ticket #${id}: How do we rotate keys?`,
      },
    ]);

    await call(op.token, 'POST', `/tickets/${id}/comments`, { body: 'Looking', internal: true });
    assert.deepEqual(await queued(), [], 'an internal comment tells no one');

    await call(op.token, 'POST', `/tickets/${id}/assign`, { assignee: op.username });
    await call(op.token, 'POST', `/tickets/${id}/comments`, { body: 'Use govhost keys rotate.' });
    await call(op.token, 'POST', `/tickets/${id}/move`, { to: 'resolved', note: 'Answered' });
    const desk = await queued();
    assert.deepEqual(
      desk.map((m) => m.to),
      [
        [mail(raiser), mail(watcher)].sort(),
        [mail(raiser), mail(watcher)].sort(),
        [mail(raiser), mail(watcher)].sort(),
      ],
    );
    assert.match(desk[1]?.message ?? '', /Use govhost keys rotate/);
    assert.match(desk[2]?.message ?? '', /from new to resolved: Answered/);

    // The watcher answers: the raiser hears of it, the watcher does not hear of their own word.
    await call(watcher.token, 'POST', `/tickets/${id}/comments`, { body: 'Thanks, done.' });
    assert.deepEqual(
      (await queued()).map((m) => m.to),
      [[mail(raiser)]],
    );

    // Every queued e-mail arrives, one message per change, at each person's own address; the
    // bystander and the operator (who was neither raiser nor watcher) get none.
    const deadline = Date.now() + 20_000;
    while (mails.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(mails.length, 5, JSON.stringify(mails.map((m) => m.to)));
    const everyone = new Set(mails.flatMap((m) => m.to));
    assert.ok(!everyone.has(mail(bystander)) && !everyone.has(mail(op)));
    assert.ok(mails.some((m) => m.raw.includes(`ticket #${id}`) && m.raw.includes('resolved')));
  });

  it('an SLA breach tells them too; a disabled watcher hears nothing more', async () => {
    const ticket = await call(op.token, 'POST', '/tickets', {
      service: `${a}/records`,
      kind: 'incident',
      priority: 'P1',
      title: 'Imported from the old desk',
      description: 'Unanswered there.',
      watchers: [raiser.username, watcher.username],
      raisedAt: new Date(Date.now() - 20 * 60 * 60_000).toISOString(),
    });
    const id = ticket.id as number;
    assert.deepEqual(
      (await queued()).map((m) => m.to),
      [[mail(raiser), mail(watcher)].sort()],
    );
    await call(t.adminToken, 'PATCH', `/users/${watcher.username}`, { disabled: true });
    const marks = (await checkSla({ db: t.db, config: t.config })).filter((m) => m.ticket === id);
    assert.deepEqual(marks.map((m) => m.mark).sort(), ['resolution_breached_at', 'response_breached_at']);
    // No actor: the raiser (the desk's operator, who imported it) hears of the breach as well.
    const breach = await queued();
    assert.deepEqual(
      breach.map((m) => [m.event, m.to]),
      [
        ['ticket.sla-breach', [mail(op), mail(raiser)].sort()],
        ['ticket.sla-breach', [mail(op), mail(raiser)].sort()],
      ],
    );
  });
});
