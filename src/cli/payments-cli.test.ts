// `govhost payments …` as people run it, one process per command, against the real API on
// loopback: a key made (secret printed once), listed without its secret, used, revoked; the
// service's payments listed, summed up per service and reported as CSV; a payment webhook set
// (its secret printed once, a URL off the service's own hosts refused in one clear line), shown
// without its secret and its secret rotated; live keys and a wrong sandbox setting refused in one
// clear line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { serviceHostname } from '../catalog/service.logic.ts';
import { feesService } from '../payments/payments.testing.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { BIN, cleanEnv, runCli } from '../test-support/server-process.ts';

describe('govhost payments', () => {
  let t: TestApp;
  let url: string;
  let dev: string;
  let dept: string;
  const run = (args: string[]) => runCli(url, dev, args);

  before(async () => {
    t = await testApp();
    url = await t.listen();
    ({ dept, dev } = await feesService(t, 'PAY'));
  });
  after(() => t.close());

  it('makes, lists, uses and revokes a key; lists payments', async () => {
    const made = await run(['payments', 'key-create', 'fees', '--name', 'cli']);
    assert.equal(made.code, 0, made.stderr);
    const secret = /^(ghp_test_\S+)$/m.exec(made.stdout)?.[1];
    assert.ok(secret, made.stdout);
    assert.match(made.stdout, /not shown again/);
    const pay = await t.request(secret, {
      method: 'POST',
      url: '/api/v1/payments',
      headers: { 'idempotency-key': 'cli-1' },
      payload: {
        amount: 4_250,
        reference: 'FEE-9',
        description: 'Fee',
        returnUrl: `https://${serviceHostname('fees', dept, t.config.domain)}/done`,
      },
    });
    assert.equal(pay.statusCode, 201, pay.body);
    const list = await run(['payments', 'list', `${dept}/fees`, '--state', 'created']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /FEE-9\s+HK\$42\.50\s+created\s+test/);
    const keys = await run(['payments', 'keys', 'fees']);
    assert.ok(!keys.stdout.includes(secret), 'the secret is never listed');
    const id = /^([0-9a-f-]{36})\s+cli/m.exec(keys.stdout)?.[1];
    assert.ok(id, keys.stdout);
    const revoked = await run(['payments', 'key-revoke', 'fees', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = await t.request(secret, { method: 'GET', url: '/api/v1/payments' });
    assert.equal(after.statusCode, 401);
  });

  it("summary and report: a period's figures per service, and its payments as CSV", async () => {
    const summary = await run(['payments', 'summary', '--department', dept]);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(
      summary.stdout,
      new RegExp(`${dept}/fees\\s+1\\s+0\\s+-\\s+HK\\$0\\.00\\s+0\\s+HK\\$0\\.00`),
    );
    const csv = await run(['payments', 'report', '--department', dept, '--service', 'fees']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stdout, /^record,department,service,mode,payment_id,/);
    assert.match(
      csv.stdout,
      new RegExp(`\\r\\npayment,${dept},fees,test,[0-9a-f-]{36},,FEE-9,created,4250,0,`),
    );
    const bad = await run(['payments', 'summary', '--by', 'week']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--by is day or month, not week/);
  });

  it("sets a payment webhook on the service's own host (secret printed once) and rotates its secret", async () => {
    const host = serviceHostname('fees', dept, t.config.domain);
    const bad = await run(['payments', 'webhook-set', 'fees', 'https://evil.example/hook']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not one of the service's own/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    const set = await run(['payments', 'webhook-set', 'fees', `https://${host}/hooks`]);
    assert.equal(set.code, 0, set.stderr);
    const secret = /^(whsec_\S+)$/m.exec(set.stdout)?.[1];
    assert.ok(secret, set.stdout);
    const shown = await run(['payments', 'webhook', `${dept}/fees`]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`https://${host}/hooks`));
    assert.ok(!shown.stdout.includes(secret), 'the secret is never shown again');
    const rotated = await run(['payments', 'webhook-rotate', 'fees']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^whsec_\S+$/m);
    assert.ok(!rotated.stdout.includes(secret), 'a new secret');
  });

  it('says plainly why live keys are not available here, and names a wrong sandbox setting', async () => {
    const live = await run(['payments', 'key-create', 'fees', '--name', 'x', '--mode', 'live']);
    assert.notEqual(live.code, 0);
    assert.match(
      live.stderr,
      /no live payment provider is configured \(GOVHOST_PAYMENTS_LIVE_PROVIDER_URL\)/,
    );
    const bad = spawnSync(process.execPath, [BIN, 'payments', 'sandbox'], {
      env: cleanEnv({ GOVHOST_SANDBOX_PORT: 'eighty' }),
      encoding: 'utf8',
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /GOVHOST_SANDBOX_PORT must be a port number/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  });
});
