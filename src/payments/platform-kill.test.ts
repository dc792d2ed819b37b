// kill -9 of the platform (a real `govhost server` process on PostgreSQL) in the middle of a
// refund: after the provider took it and before the platform stored the answer. After a restart
// nothing is lost or doubled: the refund waits `submitted` with its call `pending`, the
// reconciliation job settles it once, the provider holds it once, and the ledger is whole.
// PostgreSQL only: the test and the platform process share the database.
// test-seconds: 40
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';
import { TEST_STORE } from '../test-support/database.ts';
import { cleanEnv, startServer, stopProcess } from '../test-support/server-process.ts';
import { feesService } from './payments.testing.ts';
import { httpProvider } from './provider.ts';
import { startAtProvider, syncWithProvider } from './provider-flow.ts';
import { RECONCILE_GRACE_MS, reconcilePayments } from './reconcile.job.ts';
import { ledgerFaults } from './reconcile.repository.ts';
import { payOnCardPage, type RunningSandbox, startSandbox } from './sandbox/sandbox.testing.ts';

const adminUrl = process.env.GOVHOST_TEST_DATABASE_URL;
const skip =
  TEST_STORE !== 'postgres' || !adminUrl
    ? 'the platform process and the test share a PostgreSQL: set GOVHOST_TEST_DATABASE_URL'
    : false;
const ANY = { departmentId: null };

describe('kill -9 of the platform in the middle of a refund', { skip }, () => {
  let t: TestApp;
  let sandbox: RunningSandbox;
  let proxy: Server;
  let dir: string;
  let key: string;
  let paymentId: string;
  /** Set when the next refund is to be the platform's last act. */
  let killOnRefund: (() => void) | null = null;

  before(async () => {
    sandbox = await startSandbox();
    // Stands between the platform and the sandbox: forwards every call, and when armed, lets the
    // sandbox take the refund, then kills the platform before it can read the answer.
    proxy = createServer((req, res) => {
      const target = new URL(req.url ?? '/', sandbox.url);
      const up = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
        const kill = req.url === '/v1/refunds' ? killOnRefund : null;
        if (kill) {
          answer.resume();
          answer.on('end', () => {
            kill();
            res.destroy();
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    t = await testApp({ paymentsSandboxUrl: sandbox.url });
    const fees = await feesService(t, 'PK');
    key = fees.key;
    const made = await t.request(key, {
      method: 'POST',
      url: '/api/v1/payments',
      headers: { 'idempotency-key': 'pk-1' },
      payload: {
        amount: 20_000,
        reference: 'PK-1',
        description: 'Fee',
        returnUrl: fees.returnUrl,
      },
    });
    paymentId = made.json().id;
    const provider = httpProvider(sandbox.url);
    const { redirectUrl } = await startAtProvider(t.db, provider, ANY, paymentId);
    assert.equal((await payOnCardPage(redirectUrl, '4242424242424242')).status, 303);
    assert.equal((await syncWithProvider(t.db, provider, ANY, paymentId))?.state, 'success');
    dir = mkdtempSync(join(tmpdir(), 'govhost-paykill-'));
  });
  after(async () => {
    await t?.close();
    await sandbox?.stop();
    await new Promise((resolve) => proxy?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('nothing is lost or doubled, and reconciliation settles the refund once', async () => {
    const db = (await sql<{ name: string }>`select current_database() as name`.execute(t.db)).rows[0]?.name;
    const url = new URL(adminUrl as string);
    url.pathname = `/${db}`;
    // Every control-plane process on one database keeps its keys (the audit chain's, the secrets').
    for (const f of readdirSync(t.config.dataDir).filter((f) => f.endsWith('.key')))
      copyFileSync(join(t.config.dataDir, f), join(dir, f));
    const address = proxy.address();
    const env = cleanEnv({
      GOVHOST_DATA_DIR: dir,
      DATABASE_URL: url.toString(),
      GOVHOST_PORT: '0',
      GOVHOST_LOG_LEVEL: 'info',
      GOVHOST_PAYMENTS_SANDBOX_URL: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    });
    const first = await startServer(env);
    const killed = new Promise<void>((resolve) => {
      killOnRefund = () => {
        killOnRefund = null;
        first.proc.child.kill('SIGKILL');
        resolve();
      };
    });
    const refund = fetch(`${first.url}/api/v1/payments/${paymentId}/refunds`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'idempotency-key': 'rf-1',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ amount: 7_500 }),
    });
    await killed;
    await assert.rejects(refund, 'the platform died before answering');
    assert.equal((await first.proc.closed).signal, 'SIGKILL');

    const refunds = await t.db
      .selectFrom('payment_refunds')
      .selectAll()
      .where('payment_id', '=', paymentId)
      .execute();
    assert.equal(refunds.length, 1);
    assert.equal(refunds[0]?.state, 'submitted', 'the answer was never stored');
    const pending = await t.db
      .selectFrom('provider_calls')
      .select('id')
      .where('state', '=', 'pending')
      .execute();
    assert.equal(pending.length, 1, 'the call was recorded before it was made');

    // The platform comes back on the same database; the retried request replays, never doubles.
    const second = await startServer(env);
    try {
      const retry = await fetch(`${second.url}/api/v1/payments/${paymentId}/refunds`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'idempotency-key': 'rf-1',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ amount: 7_500 }),
      });
      assert.equal(retry.status, 200);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      // A round of its reconciliation job, once the call is past its grace.
      const round = await reconcilePayments(
        { db: t.db, provider: httpProvider(sandbox.url) },
        new Date(Date.now() + RECONCILE_GRACE_MS + 1000),
      );
      assert.equal(round.calls.refund, 1);
      const settled = await fetch(`${second.url}/api/v1/payments/${paymentId}/refunds`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const { items } = (await settled.json()) as { items: { state: string; amount: number }[] };
      assert.deepEqual(
        items.map((r) => `${r.state} ${r.amount}`),
        ['success 7500'],
      );
    } finally {
      await stopProcess(second.proc);
    }
    // Its logs (at info) name neither the payment key nor the database password.
    const logs = first.proc.out() + first.proc.err() + second.proc.out() + second.proc.err();
    assert.ok(logs.includes('GovHost is ready'), 'the logs were read');
    assert.ok(!logs.includes(key), 'no payment key in the logs');
    assert.ok(!logs.includes(url.password || '\u0000'), 'no database password in the logs');
    const report = await httpProvider(sandbox.url).settlement(new Date().toISOString().slice(0, 10));
    const taken = report.items.filter((i) => i.paymentId === paymentId && i.type === 'refund');
    assert.equal(taken.length, 1, 'the provider took the refund once');
    assert.deepEqual(await ledgerFaults(t.db), []);
    const postings = await t.db
      .selectFrom('ledger_postings')
      .select('kind')
      .where('payment_id', '=', paymentId)
      .orderBy('kind')
      .execute();
    assert.deepEqual(
      postings.map((p) => p.kind),
      ['capture', 'refund'],
    );
  });
});
