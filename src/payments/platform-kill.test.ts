// kill -9 of the platform (a real `govhost server` process on PostgreSQL) three times, each
// restart serving the next case: in the middle of a refund (after the provider took it, before
// the platform stored the answer), in the middle of a payment (the citizen's Continue, after the
// provider opened the payment), and right after a capture (the citizen back from the card page,
// after the provider said captured, before the platform stored it). After each restart nothing is
// lost or doubled: the provider holds each thing once, a reconciliation round settles what was
// left, the ledger is whole, and the service's signed webhooks, sent through the platform's
// router to a deployed receiver, arrive once per event id.
// PostgreSQL only: the test and the platform process share the database.
// test-seconds: 50
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { serviceHostname } from '../catalog/service.logic.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { TEST_STORE } from '../test-support/database.ts';
import { freePort } from '../test-support/free-port.ts';
import { stopLeftServices } from '../test-support/left-services.ts';
import { cleanEnv, runCli, startServer, stopProcess } from '../test-support/server-process.ts';
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

/** A receiver of the service's webhooks, deployed as its app: checks each signature, lists them. */
const RECEIVER = `import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
const got = [];
createServer((req, res) => {
  if (req.method !== 'POST') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(got));
  let body = '';
  req.setEncoding('utf8').on('data', (d) => (body += d));
  req.on('end', () => {
    const ts = String(req.headers['x-govhost-timestamp']);
    const given = Buffer.from(String(req.headers['x-govhost-signature']));
    const expected = Buffer.from('v1=' + createHmac('sha256', process.env.WEBHOOK_SECRET).update(ts + '.' + body).digest('hex'));
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    if (ok) { const e = JSON.parse(body); got.push({ id: e.id, type: e.type, payment: e.payment.id }); }
    res.writeHead(ok ? 204 : 401).end();
  });
}).listen(Number(process.env.PORT));
`;

interface Got {
  id: string;
  type: string;
  payment: string;
}

describe('kill -9 of the platform mid-refund, mid-payment and right after a capture', { skip }, () => {
  let t: TestApp;
  let sandbox: RunningSandbox;
  let proxy: Server;
  let dir: string;
  let appDir: string;
  let key: string;
  let dept: string;
  let devToken: string;
  let webhookSecret: string;
  let paymentId: string;
  let env: NodeJS.ProcessEnv;
  let routerPort: number;
  /** The platform process of the case at hand: each case kills it and starts the next. */
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  const logs: string[] = [];
  /** Armed: the next provider call `match` takes is the platform's last act. */
  let armed: { match: (method: string, path: string) => boolean; kill: () => void } | null = null;

  /** Arms the kill for the next call `match` takes; resolves once the process has ended. */
  function killOn(match: (method: string, path: string) => boolean): Promise<void> {
    const proc = (server as NonNullable<typeof server>).proc;
    return new Promise<void>((resolve) => {
      armed = {
        match,
        kill: () => {
          armed = null;
          proc.child.kill('SIGKILL');
          resolve();
        },
      };
    }).then(async () => {
      assert.equal((await proc.closed).signal, 'SIGKILL');
      logs.push(proc.out() + proc.err());
    });
  }

  /** A POST of the service to the payments API of the platform at `base`, with its key. */
  const keyPost = (base: string, path: string, idempotencyKey: string, body: object) =>
    fetch(`${base}/api/v1/payments${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'idempotency-key': idempotencyKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });

  /** Creates a payment on the running platform, as the service does; returns its id. */
  async function createPayment(reference: string, amount: number): Promise<string> {
    const made = await keyPost((server as NonNullable<typeof server>).url, '', reference, {
      amount,
      reference,
      description: 'Fee',
      returnUrl: `https://${serviceHostname('fees', dept, t.config.domain)}/`,
    });
    assert.equal(made.status, 201);
    return ((await made.json()) as { id: string }).id;
  }

  /** A request to the payment host on the platform's own address, as the router passes it on. */
  function payHost(method: 'GET' | 'POST', path: string): Promise<{ status: number; location: string }> {
    const u = new URL((server as NonNullable<typeof server>).url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path,
          method,
          headers: {
            host: `pay.localhost:${routerPort}`,
            ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, location: String(res.headers.location) }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** The webhooks the deployed receiver has taken, through the router, signatures checked. */
  async function received(): Promise<Got[]> {
    const host = serviceHostname('fees', dept, t.config.domain);
    return new Promise((resolve) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: routerPort, path: '/', headers: { host } },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as Got[]) : []));
        },
      );
      // Not served yet (the router between two platform processes): nothing received so far.
      req.on('error', () => resolve([]));
      req.end();
    });
  }

  /**
   * Waits (bounded) until every webhook queued for `payment` is delivered, then checks that the
   * receiver took each event once in effect: every event id it saw is one the outbox holds, each
   * type under one id only.
   */
  async function webhooksOf(payment: string, types: string[]): Promise<void> {
    let got: Got[] = [];
    for (const deadline = Date.now() + 20_000; ; ) {
      const rows = await t.db
        .selectFrom('notification_outbox')
        .select(['state', 'body'])
        .where('sender', '=', 'payments')
        .execute();
      const mine = rows.filter((r) => JSON.parse(r.body).payment.id === payment);
      got = (await received()).filter((g) => g.payment === payment);
      const queued = mine.map((r) => JSON.parse(r.body).id as string);
      if (mine.length === types.length && mine.every((r) => r.state === 'delivered')) {
        assert.deepEqual(new Set(got.map((g) => g.id)), new Set(queued), 'what was queued arrived');
        break;
      }
      assert.ok(Date.now() < deadline, `webhooks of ${payment} not delivered: ${JSON.stringify(mine)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const byType = new Map<string, Set<string>>();
    for (const g of got) byType.set(g.type, (byType.get(g.type) ?? new Set()).add(g.id));
    assert.deepEqual([...byType.keys()].sort(), [...types].sort());
    for (const [type, ids] of byType) assert.equal(ids.size, 1, `${type} under one event id`);
  }

  before(async () => {
    sandbox = await startSandbox();
    // Stands between the platform and the sandbox: forwards every call, and when armed, lets the
    // sandbox answer the call it waits for, then kills the platform before it can read the answer.
    proxy = createServer((req, res) => {
      const target = new URL(req.url ?? '/', sandbox.url);
      const up = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
        const kill = armed?.match(req.method ?? '', req.url ?? '') ? armed.kill : null;
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
    dept = fees.dept;
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
    // The service's webhook, on its own host, and the receiver to deploy with its secret.
    devToken = (await t.user('dept-developer', dept)).token;
    const hook = await t.request(devToken, {
      method: 'PUT',
      url: `/api/v1/services/${dept}/fees/payment-webhook`,
      payload: { url: `http://${serviceHostname('fees', dept, t.config.domain)}/hook` },
    });
    assert.equal(hook.statusCode, 200, hook.body);
    webhookSecret = hook.json().secret;
    dir = mkdtempSync(join(tmpdir(), 'govhost-paykill-'));
    appDir = mkdtempSync(join(tmpdir(), 'govhost-paykill-app-'));
    writeFileSync(join(appDir, 'server.js'), RECEIVER);
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({
        name: 'receiver',
        private: true,
        type: 'module',
        scripts: { start: 'node server.js' },
      }),
    );
    const db = (await sql<{ name: string }>`select current_database() as name`.execute(t.db)).rows[0]?.name;
    const url = new URL(adminUrl as string);
    url.pathname = `/${db}`;
    // Every control-plane process on one database keeps its keys (the audit chain's, the secrets').
    for (const f of readdirSync(t.config.dataDir).filter((f) => f.endsWith('.key')))
      copyFileSync(join(t.config.dataDir, f), join(dir, f));
    const address = proxy.address() as AddressInfo;
    routerPort = await freePort();
    env = cleanEnv({
      GOVHOST_DATA_DIR: dir,
      DATABASE_URL: url.toString(),
      GOVHOST_PORT: '0',
      GOVHOST_ROUTER_PORT: String(routerPort),
      GOVHOST_ROUTER_ADMIN_PORT: String(await freePort()),
      GOVHOST_LOG_LEVEL: 'info',
      GOVHOST_PAYMENTS_SANDBOX_URL: `http://127.0.0.1:${address.port}`,
    });
  });
  after(async () => {
    if (server) {
      await stopProcess(server.proc);
      logs.push(server.proc.out() + server.proc.err());
    }
    // The last platform left its router and the receiver's instance running for a next holder.
    if (dir) await stopLeftServices(dir);
    await t?.close();
    await sandbox?.stop();
    await new Promise((resolve) => proxy?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  });

  it('mid-refund: nothing is lost or doubled, and reconciliation settles the refund once', async () => {
    server = await startServer(env);
    // The receiver, deployed as the service's app with the webhook's secret, behind the router.
    const setEnv = await fetch(`${server.url}/api/v1/services/${dept}/fees/env`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${devToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ set: { WEBHOOK_SECRET: webhookSecret } }),
    });
    assert.equal(setEnv.status, 200, await setEnv.text());
    const deployed = await runCli(server.url, devToken, ['deploy', appDir, '--service', `${dept}/fees`]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const first = server;
    const killed = killOn((method, path) => method === 'POST' && path === '/v1/refunds');
    // Its failure is awaited below; the handler is attached now, as the process may die first.
    const refund = assert.rejects(
      keyPost(first.url, `/${paymentId}/refunds`, 'rf-1', { amount: 7_500 }),
      'the platform died before answering',
    );
    await killed;
    await refund;

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
    server = second;
    {
      const retry = await keyPost(second.url, `/${paymentId}/refunds`, 'rf-1', { amount: 7_500 });
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
    }
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
    // The refund's webhook, queued with its settlement, reaches the service after the restart.
    await webhooksOf(paymentId, ['refund.success']);
  });

  it("mid-payment: killed as the provider opens the citizen's payment; the retried Continue pays once", async () => {
    const id = await createPayment('PK-2', 12_300);
    const killed = killOn((method, path) => method === 'POST' && path === '/v1/payments');
    const go = assert.rejects(payHost('POST', `/pay/${id}/continue`), 'the platform died before answering');
    await killed;
    await go;
    const row = await t.db
      .selectFrom('payments')
      .select(['state', 'provider_ref'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { state: 'created', provider_ref: null }, 'the answer was never stored');
    const calls = await t.db
      .selectFrom('provider_calls')
      .select('state')
      .where('payment_id', '=', id)
      .execute();
    assert.deepEqual(calls, [{ state: 'pending' }], 'the call was recorded before it was made');

    server = await startServer(env);
    // The citizen tries again: the provider gives the same page (once per payment id), and pays.
    const again = await payHost('POST', `/pay/${id}/continue`);
    assert.equal(again.status, 303);
    assert.equal((await payOnCardPage(again.location, '4242424242424242')).status, 303);
    const back = await payHost('GET', `/pay/${id}/back`);
    assert.equal(back.status, 303);
    assert.match(back.location, /^\/pay\/return\//);
    const round = await reconcilePayments(
      { db: t.db, provider: httpProvider(sandbox.url) },
      new Date(Date.now() + RECONCILE_GRACE_MS + 1000),
    );
    assert.equal(round.calls.authorise, 1, 'the stale call is finished');
    const now = await t.db
      .selectFrom('payments')
      .select('state')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(now.state, 'success');
    const report = await httpProvider(sandbox.url).settlement(new Date().toISOString().slice(0, 10));
    assert.equal(report.items.filter((i) => i.paymentId === id).length, 1, 'one payment, captured once');
    assert.deepEqual(await ledgerFaults(t.db), []);
    await webhooksOf(id, ['payment.started', 'payment.submitted', 'payment.success']);
  });

  it('right after a capture: killed before the captured answer is stored; reconciliation stores it once', async () => {
    const id = await createPayment('PK-3', 45_600);
    const go = await payHost('POST', `/pay/${id}/continue`);
    assert.equal(go.status, 303);
    assert.equal(
      (await payOnCardPage(go.location, '4242424242424242')).status,
      303,
      'captured at the provider',
    );
    // Its `started` webhook is out before the kill (a delivery cut short would wait out its claim).
    await webhooksOf(id, ['payment.started']);
    const killed = killOn((method, path) => method === 'GET' && path.startsWith('/v1/payments/'));
    const back = assert.rejects(payHost('GET', `/pay/${id}/back`), 'the platform died before answering');
    await killed;
    await back;
    const row = await t.db
      .selectFrom('payments')
      .select('state')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.state, 'started', 'the capture was never stored');

    server = await startServer(env);
    const round = await reconcilePayments(
      { db: t.db, provider: httpProvider(sandbox.url) },
      new Date(Date.now() + RECONCILE_GRACE_MS + 1000),
    );
    assert.equal(round.settled, 1);
    assert.equal(
      (
        await reconcilePayments(
          { db: t.db, provider: httpProvider(sandbox.url) },
          new Date(Date.now() + RECONCILE_GRACE_MS + 1000),
        )
      ).settled,
      0,
      'a second round settles nothing again',
    );
    // The citizen, back again, is sent on to the service.
    const home = await payHost('GET', `/pay/${id}/back`);
    assert.equal(home.status, 303);
    assert.match(home.location, /^\/pay\/return\//);
    const postings = await t.db
      .selectFrom('ledger_postings')
      .select('kind')
      .where('payment_id', '=', id)
      .execute();
    assert.deepEqual(
      postings.map((p) => p.kind),
      ['capture'],
      'captured once in the ledger',
    );
    const report = await httpProvider(sandbox.url).settlement(new Date().toISOString().slice(0, 10));
    assert.equal(report.items.filter((i) => i.paymentId === id).length, 1, 'and once at the provider');
    assert.deepEqual(await ledgerFaults(t.db), []);
    await webhooksOf(id, ['payment.started', 'payment.submitted', 'payment.success']);
    // The logs of every platform process (at info) name neither the payment key nor the database
    // password.
    await stopProcess((server as NonNullable<typeof server>).proc);
    logs.push(
      (server as NonNullable<typeof server>).proc.out() + (server as NonNullable<typeof server>).proc.err(),
    );
    server = null;
    const all = logs.join('');
    assert.ok(all.includes('GovHost is ready'), 'the logs were read');
    assert.ok(!all.includes(key), 'no payment key in the logs');
    const password = new URL(String(env.DATABASE_URL)).password;
    assert.ok(!all.includes(password || '\u0000'), 'no database password in the logs');
  });
});
