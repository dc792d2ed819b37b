import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

// `govhost alerts`, `channels` and `incidents` as people run them: one process per command,
// against the real API listening on loopback. Independent commands run side by side.
let t: TestApp;
let url: string;
let dept: string;
let admin: string;
let svc: string;

type Result = { code: number | null; stdout: string; stderr: string };

function run(args: string[], token = admin): Promise<Result> {
  return runCli(url, token, args);
}

function ok(r: Result): string {
  assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

/** A failure is one `govhost: ...` line on stderr, no stack trace, nothing on stdout. */
function oneLineError(r: Result, exitCode: number, pattern: RegExp): void {
  assert.equal(r.code, exitCode, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, /^govhost: [^\n]+\n$/);
  assert.match(r.stderr, pattern);
  assert.equal(r.stdout, '');
}

/** Commander's own refusal (exit 2): `error: <reason>` on the first line, then the usage. */
function usageRejected(r: Result, reason: string): void {
  assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const [first, , usage] = r.stderr.split('\n');
  assert.equal(first, `error: ${reason}`);
  assert.equal(usage, 'Usage: govhost alerts set [options] <service> <rule>');
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
}

/** The table row of one rule, its cells split on runs of two or more spaces. */
const ruleRow = (out: string, rule: string) =>
  out
    .split('\n')
    .find((l) => l.startsWith(`${rule} `))
    ?.split(/ {2,}/)
    .map((c) => c.trim());

// The two tests touch different things: they run side by side too.
describe('govhost alerts, channels and incidents', { concurrency: 2 }, () => {
  before(async () => {
    t = await testApp();
    url = await t.listen();
    dept = await t.department('CLA');
    admin = (await t.user('dept-admin', dept)).token;
    const res = await t.request(admin, {
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
    svc = `${dept}/etax`;
  });
  after(() => t.close());

  it('shows, overrides and resets a rule; refuses a bad rule or duration in one line', async () => {
    const [rules, badRule, badFor] = await Promise.all([
      run(['alerts', 'rules', svc]),
      run(['alerts', 'set', svc, 'latency-p95', '--threshold', '800']),
      run(['alerts', 'set', svc, 'latency', '--for', '2 minutes']),
    ]);
    const before = ok(rules);
    assert.match(before, /^RULE +ENABLED +THRESHOLD +FOR +CLEARS AFTER +SEVERITY +SOURCE\n/);
    assert.deepEqual(ruleRow(before, 'latency'), [
      'latency',
      'yes',
      '1000 ms (p95)',
      '5m',
      '60s',
      'P3',
      'default',
    ]);
    assert.deepEqual(ruleRow(before, 'service-down'), [
      'service-down',
      'yes',
      '-',
      '0s',
      '30s',
      'P1',
      'default',
    ]);
    // The CLI's convention: 2 for a command used wrongly, found before any request.
    oneLineError(badRule, 2, /rule must be one of service-down, error-rate, latency, crash-loop, memory/);
    // An option commander rejects: its one-line reason first, then the command's usage (no stack).
    usageRejected(
      badFor,
      "option '--for <duration>' argument '2 minutes' is invalid. must be a duration such as 90s, 5m or 1h",
    );

    const set = ok(
      await run(['alerts', 'set', svc, 'latency', '--threshold', '800', '--for', '2m', '--clear', '3m']),
    );
    assert.equal(set, `${svc} latency: fires when above 800 ms (p95) for 2m, clears after 3m (P3).\n`);
    const after = await run(['alerts', 'rules', svc]);
    assert.deepEqual(ruleRow(ok(after), 'latency'), [
      'latency',
      'yes',
      '800 ms (p95)',
      '2m',
      '3m',
      'P3',
      'override',
    ]);
    assert.deepEqual(ruleRow(ok(after), 'error-rate')?.at(-1), 'default', 'other rules keep the default');

    const reset = ok(await run(['alerts', 'reset', svc, 'latency']));
    assert.equal(reset, `${svc} latency: back to the tier's default (1000 for 5m).\n`);
    const api = await t.request(admin, { method: 'GET', url: `/api/v1/services/${svc}/alert-rules/latency` });
    assert.deepEqual([api.json().threshold, api.json().source], [1000, 'default']);
  });

  it('adds a webhook (its secret shown once), lists and removes it', async () => {
    // A documentation address (RFC 5737): public, so accepted without a DNS look-up, never contacted.
    const [added, incidents, missing] = await Promise.all([
      run(['channels', 'add-webhook', 'https://203.0.113.10/govhost']),
      run(['incidents']),
      run(['incidents', 'show', '999999']),
    ]);
    const out = ok(added);
    const m =
      /^Added webhook ([0-9a-f-]{36}) for (\S+)\.\nsigning secret: (\S+)\nThis secret will not be shown again\./.exec(
        out,
      );
    assert.ok(m, out);
    const [, id, forDept, secret] = m as unknown as [string, string, string, string];
    assert.equal(forDept, dept);
    assert.ok(secret.length >= 32, secret);
    assert.equal(ok(incidents), 'no incidents\n');
    oneLineError(missing, 1, /999999.*\(GOVHOST_\w*NOT_FOUND\)/);

    const table = ok(await run(['channels', 'list']));
    assert.match(table, /^ID +DEPARTMENT +KIND +TARGET +MIN SEV +BY\n/);
    assert.match(table, new RegExp(`^${id} +${dept} +webhook +https://203\\.0\\.113\\.10/govhost `, 'm'));
    // Shown once: neither the table nor the API's list carries it again.
    const listed = await t.request(admin, { method: 'GET', url: '/api/v1/notification-channels' });
    assert.ok(!table.includes(secret) && !listed.body.includes(secret));
    assert.deepEqual(
      listed.json().items.map((c: { id: string }) => c.id),
      [id],
    );

    assert.equal(ok(await run(['channels', 'remove', id])), `Removed channel ${id}.\n`);
    assert.equal(ok(await run(['channels', 'list'])), 'no notification channels\n');
  });
});
