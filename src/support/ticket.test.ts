// Support tickets through the API on a real store: raised by a department, worked by the desk
// through the one status table (a 409 names what is allowed), public and internal comments,
// assignment, links to incidents, attachments checked by content, audit records, notifications
// queued for the department's channels, and isolation: another department cannot see, comment on
// or fetch the attachments of a ticket (404, as for every other department-owned thing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(40, 1),
]);

describe('support tickets', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let devA: { username: string; token: string };
  let devA2: { username: string; token: string };
  let devB: string;
  let viewerA: string;
  let operator: { username: string; token: string };
  let id: number;
  const call = async (token: string, method: string, url: string, payload?: unknown) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    let json = null;
    try {
      json = res.json();
    } catch {}
    return { status: res.statusCode, json, body: res.body, headers: res.headers, raw: res.rawPayload };
  };

  before(async () => {
    t = await testApp({ webhookAllow: ['127.0.0.1'] });
    a = await t.department('SA');
    b = await t.department('SB');
    devA = await t.user('dept-developer', a);
    devA2 = await t.user('dept-developer', a);
    devB = (await t.user('dept-developer', b)).token;
    viewerA = (await t.user('dept-viewer', a)).token;
    operator = await t.user('operator');
    const svc = await call(devA.token, 'POST', '/services', {
      department: a,
      slug: 'permits',
      nameEn: 'Permits',
      nameZh: '許可證',
      origin: 'new',
      channels: ['web'],
      slaTier: 'gold',
    });
    assert.equal(svc.status, 201, svc.body);
    const channel = await call(t.adminToken, 'POST', '/notification-channels', {
      kind: 'webhook',
      url: 'http://127.0.0.1:9/hook',
      department: a,
    });
    assert.equal(channel.status, 201, channel.body);
  });
  after(() => t.close());

  it('a department developer raises a ticket on its service; it runs on the service tier’s clocks', async () => {
    const res = await call(devA.token, 'POST', '/tickets', {
      service: 'permits',
      kind: 'incident',
      priority: 'P2',
      title: 'Permit form returns 500',
      description: 'Since 09:00 the form fails.\nSteps: submit.',
      watchers: [devA2.username],
    });
    assert.equal(res.status, 201, res.body);
    id = res.json.id;
    assert.equal(res.json.department, a);
    assert.equal(res.json.service, `${a}/permits`);
    assert.equal(res.json.status, 'new');
    assert.equal(res.json.slaTier, 'gold');
    assert.deepEqual(res.json.watchers, [devA2.username]);
    assert.equal(res.json.sla.response.targetMinutes, 30);
    assert.equal(res.json.sla.response.hours, '24x7');
    assert.equal(res.json.sla.response.state, 'running');
    // A department cannot do the desk's moves.
    assert.deepEqual(res.json.nextStates, []);
    const viewer = await call(viewerA, 'POST', '/tickets', {
      kind: 'question',
      priority: 'P4',
      title: 'x',
      description: 'y',
    });
    assert.equal(viewer.status, 403);
    const bad = await call(devA.token, 'POST', '/tickets', {
      kind: 'question',
      priority: 'P5',
      title: 'x',
      description: 'y',
    });
    assert.equal(bad.status, 400);
    const noDept = await call(operator.token, 'POST', '/tickets', {
      kind: 'question',
      priority: 'P4',
      title: 'x',
      description: 'y',
    });
    assert.equal(noDept.status, 422, noDept.body);
  });

  it('the desk acknowledges, assigns and comments; internal comments never reach the department', async () => {
    const ack = await call(operator.token, 'POST', `/tickets/${id}/move`, { to: 'acknowledged' });
    assert.equal(ack.status, 200, ack.body);
    assert.ok(ack.json.firstResponseAt);
    assert.equal(ack.json.sla.response.state, 'met');
    const assigned = await call(operator.token, 'POST', `/tickets/${id}/assign`, {
      assignee: operator.username,
    });
    assert.equal(assigned.json.assignee, operator.username);
    const toDev = await call(operator.token, 'POST', `/tickets/${id}/assign`, { assignee: devA.username });
    assert.equal(toDev.status, 422, toDev.body);
    assert.equal(
      (await call(operator.token, 'POST', `/tickets/${id}/comments`, { body: 'Looking at the logs' })).status,
      200,
    );
    assert.equal(
      (
        await call(operator.token, 'POST', `/tickets/${id}/comments`, {
          body: 'DB pool exhausted',
          internal: true,
        })
      ).status,
      200,
    );
    const denied = await call(devA.token, 'POST', `/tickets/${id}/comments`, {
      body: 'psst',
      internal: true,
    });
    assert.equal(denied.status, 403);
    const seenByDept = await call(devA.token, 'GET', `/tickets/${id}`);
    assert.equal(seenByDept.status, 200);
    assert.ok(!seenByDept.body.includes('DB pool exhausted'));
    assert.ok(seenByDept.json.timeline.some((e: { body: string }) => e.body === 'Looking at the logs'));
    const seenByDesk = await call(operator.token, 'GET', `/tickets/${id}`);
    assert.ok(
      seenByDesk.json.timeline.some(
        (e: { body: string; internal: boolean }) => e.internal && e.body === 'DB pool exhausted',
      ),
    );
  });

  it('moves follow the one table: an illegal move is 409 naming the allowed statuses', async () => {
    const illegal = await call(operator.token, 'POST', `/tickets/${id}/move`, { to: 'closed' });
    assert.equal(illegal.status, 409, illegal.body);
    assert.equal(illegal.json.code, 'GOVHOST_TICKET_TRANSITION');
    assert.deepEqual(illegal.json.allowed, ['in-progress', 'waiting-on-department', 'resolved']);
    assert.match(illegal.json.detail, /allowed: in-progress, waiting-on-department, resolved/);
    const deptMove = await call(devA.token, 'POST', `/tickets/${id}/move`, { to: 'resolved' });
    assert.equal(deptMove.status, 409, deptMove.body);
    const waiting = await call(operator.token, 'POST', `/tickets/${id}/move`, {
      to: 'waiting-on-department',
      note: 'Which browser?',
    });
    assert.equal(waiting.json.sla.resolution.state, 'paused');
    // The department's answer hands it back to the desk.
    const answer = await call(devA.token, 'POST', `/tickets/${id}/comments`, { body: 'Firefox 140' });
    assert.equal(answer.json.status, 'in-progress');
    const resolved = await call(operator.token, 'POST', `/tickets/${id}/move`, {
      to: 'resolved',
      note: 'Pool raised',
    });
    assert.equal(resolved.json.status, 'resolved');
    assert.deepEqual(resolved.json.nextStates, ['in-progress', 'closed']);
    // The department reopens within the period; then the desk resolves and the department closes.
    const reopened = await call(devA.token, 'POST', `/tickets/${id}/move`, {
      to: 'in-progress',
      note: 'Still failing',
    });
    assert.equal(reopened.status, 200, reopened.body);
    assert.equal(reopened.json.resolvedAt, null);
    await call(operator.token, 'POST', `/tickets/${id}/move`, { to: 'resolved' });
    // Past the reopening period, only closing is left.
    await t.db
      .updateTable('tickets')
      .set({ resolved_at: new Date(Date.now() - 15 * 86_400_000) })
      .where('id', '=', id)
      .execute();
    const late = await call(devA.token, 'POST', `/tickets/${id}/move`, { to: 'in-progress' });
    assert.equal(late.status, 409);
    assert.deepEqual(late.json.allowed, ['closed']);
    const closed = await call(devA.token, 'POST', `/tickets/${id}/move`, { to: 'closed' });
    assert.equal(closed.json.status, 'closed');
    assert.ok(closed.json.closedAt);
  });

  it('attachments are checked by content and bounded in size', async () => {
    const t2 = await call(devA.token, 'POST', '/tickets', {
      kind: 'service-request',
      priority: 'P3',
      title: 'New host name',
      description: 'Please add one.',
    });
    assert.equal(t2.json.slaTier, 'silver');
    assert.equal(t2.json.sla.response.hours, 'business');
    const n = t2.json.id;
    const png = await call(devA.token, 'POST', `/tickets/${n}/attachments`, {
      filename: 'screen.pdf',
      contentBase64: PNG.toString('base64'),
    });
    assert.equal(png.status, 201, png.body);
    const exe = await call(devA.token, 'POST', `/tickets/${n}/attachments`, {
      filename: 'report.pdf',
      contentBase64: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]).toString('base64'),
    });
    assert.equal(exe.status, 415, exe.body);
    const big = await call(devA.token, 'POST', `/tickets/${n}/attachments`, {
      filename: 'big.txt',
      contentBase64: Buffer.alloc(520 * 1024, 'a').toString('base64'),
    });
    assert.equal(big.status, 413, big.body);
    const text = await call(devA.token, 'POST', `/tickets/${n}/attachments`, {
      filename: 'log.txt',
      contentBase64: Buffer.from('line 1\nline 2\n').toString('base64'),
    });
    assert.equal(text.status, 201, text.body);
    const got = await call(devA.token, 'GET', `/tickets/${n}`);
    assert.deepEqual(
      got.json.attachments.map((f: { mediaType: string }) => f.mediaType),
      ['image/png', 'text/plain'],
    );
    const file = await call(devA.token, 'GET', `/tickets/${n}/attachments/${got.json.attachments[0].id}`);
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'image/png');
    assert.equal(file.headers['x-content-type-options'], 'nosniff');
    assert.match(String(file.headers['content-disposition']), /^attachment; filename\*=UTF-8''screen\.pdf$/);
    assert.deepEqual(file.raw, PNG);

    // Isolation: another department sees none of it (404, not 403), nor can it comment or fetch.
    assert.equal((await call(devB, 'GET', `/tickets/${n}`)).status, 404);
    assert.equal((await call(devB, 'POST', `/tickets/${n}/comments`, { body: 'hello' })).status, 404);
    assert.equal(
      (await call(devB, 'GET', `/tickets/${n}/attachments/${got.json.attachments[0].id}`)).status,
      404,
    );
    assert.equal((await call(devB, 'POST', `/tickets/${n}/move`, { to: 'closed' })).status, 404);
    const listB = await call(devB, 'GET', '/tickets');
    assert.equal(listB.json.total, 0);
    const listA = await call(viewerA, 'GET', '/tickets');
    assert.equal(listA.json.total, 2);
    const raiseIntoA = await call(devB, 'POST', '/tickets', {
      department: a,
      kind: 'question',
      priority: 'P4',
      title: 'x',
      description: 'y',
    });
    assert.equal(raiseIntoA.status, 404);
  });

  it('links an incident of the department (not another’s); every change is audited and notified', async () => {
    const svc = await t.db
      .selectFrom('services')
      .select(['id', 'department_id'])
      .where('slug', '=', 'permits')
      .executeTakeFirstOrThrow();
    const inc = await sql<{ id: string }>`
      insert into incidents (service_id, department_id, service_key, rule, severity, title, state, opened_at)
      values (${svc.id}, ${svc.department_id}, ${`${a}/permits`}, 'service-down', 'P2', 'down', 'open', now())
      returning id`.execute(t.db);
    const incidentId = Number(inc.rows[0]?.id);
    const t3 = await call(devA.token, 'POST', '/tickets', {
      service: 'permits',
      kind: 'incident',
      priority: 'P1',
      title: 'Down',
      description: 'Down',
    });
    const linked = await call(operator.token, 'POST', `/tickets/${t3.json.id}/links`, {
      incident: incidentId,
    });
    assert.equal(linked.status, 200, linked.body);
    assert.deepEqual(linked.json.incidents, [incidentId]);
    const missing = await call(operator.token, 'POST', `/tickets/${t3.json.id}/links`, { incident: 999999 });
    assert.equal(missing.status, 404);

    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action'])
      .where('target_type', '=', 'ticket')
      .where('target_id', '=', String(id))
      .execute();
    const actions = audit.map((r) => r.action);
    for (const want of ['ticket.create', 'ticket.status', 'ticket.comment', 'ticket.assigned'])
      assert.ok(actions.includes(want), `${want} in ${actions.join(', ')}`);
    const outbox = await t.db
      .selectFrom('notification_outbox')
      .select(['event', 'body', 'incident_id'])
      .where('event', 'like', 'ticket.%')
      .execute();
    const bodies = outbox.map((o) => JSON.parse(o.body));
    assert.ok(outbox.every((o) => o.incident_id === null));
    assert.ok(
      bodies.some(
        (p) => p.ticket.id === id && p.ticket.notify.includes(devA2.username) && /resolved/.test(p.message),
      ),
    );
    // Internal comments are never sent out.
    assert.ok(!bodies.some((p) => p.message.includes('DB pool exhausted')));
  });
});
