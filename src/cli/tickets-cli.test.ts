// test-seconds: 45
// `govhost tickets …` as people run it: one CLI process per command against the real API on
// loopback. A department developer raises a ticket with an attachment; an operator assigns,
// acknowledges and resolves it; a wrong move says what is allowed; the SLA targets and the
// monthly report (CSV the same as the API's) read back.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

let t: TestApp;
let url: string;
let dir: string;

async function ok(token: string, ...args: string[]) {
  const r = await runCli(url, token, args);
  assert.equal(r.code, 0, `govhost ${args.join(' ')}: ${r.stderr}`);
  return r;
}

describe('govhost tickets', () => {
  before(async () => {
    t = await testApp();
    url = await t.listen();
    dir = await mkdtemp(join(tmpdir(), 'govhost-tickets-cli-'));
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('raises, works and resolves a ticket; lists targets and the month', async () => {
    const dept = await t.department('TC');
    const dev = (await t.user('dept-developer', dept)).token;
    const op = await t.user('operator');
    const log = join(dir, 'error.log');
    await writeFile(log, 'GET /apply 500\n');
    const raised = await ok(
      dev,
      'tickets',
      'raise',
      '--title',
      'Apply page fails',
      '--description',
      'Since 9:00',
      '--priority',
      'P2',
      '--kind',
      'incident',
      '--attach',
      log,
    );
    const n = /Raised ticket #(\d+) \(P2, silver SLA\)/.exec(raised.stdout)?.[1];
    assert.ok(n, raised.stdout);
    const exe = join(dir, 'tool.exe');
    await writeFile(exe, Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03]));
    const refused = await runCli(url, dev, ['tickets', 'attach', n, exe]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not PNG, JPEG, PDF or plain text/);
    assert.match(
      (await ok(op.token, 'tickets', 'assign', n, op.username)).stdout,
      new RegExp(`#${n} is assigned to ${op.username}`),
    );
    const wrong = await runCli(url, op.token, ['tickets', 'move', n, 'closed']);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /is new; it cannot be moved to closed \(allowed: acknowledged, in-progress, waiting-on-department, resolved\)/,
    );
    assert.match((await ok(op.token, 'tickets', 'move', n, 'acknowledged')).stdout, /is acknowledged/);
    await ok(op.token, 'tickets', 'comment', n, 'checking the pool', '--internal');
    await ok(op.token, 'tickets', 'move', n, 'resolved', '--note', 'pool raised');
    const shown = await ok(dev, 'tickets', 'show', n);
    assert.match(shown.stdout, /acknowledged → resolved/);
    assert.match(shown.stdout, /error\.log +text\/plain/);
    assert.match(shown.stdout, /response: +\d+\/60 min met \[business\]/);
    assert.ok(!shown.stdout.includes('checking the pool'), 'internal comments stay with the desk');
    const list = await ok(dev, 'tickets', 'list', '--status', 'resolved');
    assert.match(list.stdout, /Apply page fails/);

    assert.match((await ok(dev, 'tickets', 'sla')).stdout, /gold +P1 +15 +240 +24x7/);
    assert.match(
      (
        await ok(
          op.token,
          'tickets',
          'sla',
          'set',
          'bronze',
          'P4',
          '--response',
          '600',
          '--resolution',
          '3000',
          '--hours',
          'business',
        )
      ).stdout,
      /bronze P4: respond within 600 min, resolve within 3000 min \(business\)/,
    );
    // Report months are the desk's (Hong Kong, UTC+8 all year).
    const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);
    const csv = await ok(op.token, 'tickets', 'report', '--month', month, '--department', dept, '--csv');
    const api = await t.request(op.token, {
      method: 'GET',
      url: `/api/v1/support/reports/monthly?month=${month}&department=${dept}&format=csv`,
    });
    assert.equal(csv.stdout, api.body);
    assert.match(csv.stdout, new RegExp(`\\r\\n${dept},P2,1,1,\\d+,0,1,\\d+,0\\r\\n$`));
    // The desk imports a ticket from an older desk with its raise time; a department may not.
    const raisedAt = new Date(Date.now() - 3_600_000).toISOString();
    const importArgs = ['--title', 'From the old desk', '--description', 'x', '--department', dept];
    const imported = await ok(op.token, 'tickets', 'raise', ...importArgs, '--raised-at', raisedAt);
    const m = /Raised ticket #(\d+)/.exec(imported.stdout)?.[1];
    assert.ok(m, imported.stdout);
    assert.match((await ok(dev, 'tickets', 'show', m)).stdout, /imported; first raised/);
    const notDesk = await runCli(url, dev, ['tickets', 'raise', ...importArgs, '--raised-at', raisedAt]);
    assert.equal(notDesk.code, 1, notDesk.stderr);
    const bad = await runCli(url, dev, ['tickets', 'show', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"abc" is not a ticket number/);
  });
});
