// test-seconds: 23
// The hosted payment page on the payment host (decision 043), on a real store and the real
// sandbox process: the return URL checked at create (only the service's own host names), the
// page in both languages under a strict CSP, only /pay/ served on the payment host, the round trip
// to the sandbox and back with a return link that works once, the expiry of unpaid payments (a
// started one cancelled at the provider first), and the service's payment webhook (decision 047):
// set on its own host only, queued with each move, signed, sent through a router with retries.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { storedLeafFingerprints } from '../edge/certificates.logic.ts';
import { NotificationDispatcher } from '../monitoring/notification.dispatcher.ts';
import { verifyWebhook } from '../monitoring/notification.senders.ts';
import { loadSecretBox } from '../platform/secrets.ts';
import { proxyRoute, admin as routerAdmin, startBackend, startTestRouter } from '../router/testing.ts';
import { NO_OPENSSL, TestCa } from '../router/tls-testing.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { until } from '../test-support/until.ts';
import { expireUnpaid } from './expiry.job.ts';
import { httpProvider } from './provider.ts';
import { payOnCardPage, type RunningSandbox, startSandbox } from './sandbox/sandbox.testing.ts';
import { paymentWebhookSender } from './webhook.sender.ts';

const PAY = 'pay.localhost';

/** A webhook as its receiver reads it: the raw body, and whether it is signed with `secret`. */
function readSigned(req: IncomingMessage, secret: string): Promise<{ ok: boolean; body: string }> {
  return new Promise((resolve) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const headers = {
        timestamp: req.headers['x-govhost-timestamp'] as string,
        signature: req.headers['x-govhost-signature'] as string,
      };
      resolve({ ok: verifyWebhook(secret, headers, body), body });
    });
  });
}

describe('hosted payment page', () => {
  let t: TestApp;
  let dept: string;
  let key: string;
  let home: string;
  let sandbox: RunningSandbox;
  let n = 0;
  const api = async (token: string, method: string, url: string, payload?: object, idem?: string) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: idem ? { 'idempotency-key': idem } : {},
      ...(payload ? { payload } : {}),
    });
    return { status: res.statusCode, json: res.body ? res.json() : null, body: res.body };
  };
  const create = (over: Record<string, unknown> = {}) =>
    api(
      key,
      'POST',
      '/payments',
      {
        amount: 123_450,
        reference: `REN-${++n}`,
        description: 'Driving licence renewal',
        returnUrl: `${home}/done?ref=REN-${n}`,
        ...over,
      },
      `idem-${n}-${Math.random()}`,
    );
  /** A request to the payment host, as the router passes it on (Host with the router's port). */
  const pay = (method: 'GET' | 'POST', url: string, host = `${PAY}:8080`) =>
    method === 'GET'
      ? t.app.inject({ method, url, headers: { host } })
      : // As a browser posts the page's form.
        t.app.inject({
          method,
          url,
          headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
          payload: '',
        });

  before(async () => {
    sandbox = await startSandbox();
    t = await testApp({ paymentsSandboxUrl: sandbox.url });
    dept = await t.department('HP');
    const dev = (await t.user('dept-developer', dept)).token;
    const svc = await api(dev, 'POST', '/services', {
      department: dept,
      slug: 'licences',
      nameEn: 'Licence renewals',
      nameZh: '牌照續期',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    });
    assert.equal(svc.status, 201, svc.body);
    home = `http://licences.${dept.toLowerCase()}.localhost:8080`;
    key = (await api(dev, 'POST', `/services/${dept}/licences/payment-keys`, { name: 'web' })).json.secret;
  });
  after(async () => {
    await t.close();
    await sandbox.stop();
  });

  it("create: the return URL must be on the service's own host (422 otherwise); nextUrl is the page", async () => {
    for (const returnUrl of [
      'https://evil.example/done',
      `https://other.${dept.toLowerCase()}.localhost/done`,
      `https://user:pw@licences.${dept.toLowerCase()}.localhost/`,
    ]) {
      const r = await create({ returnUrl });
      assert.equal(r.status, 422, `${returnUrl}: ${r.body}`);
      assert.equal(r.json.code, 'GOVHOST_PAYMENT_RETURN_URL');
    }
    const ok = await create();
    assert.equal(ok.status, 201, ok.body);
    assert.equal(ok.json.nextUrl, `http://${PAY}:8080/pay/${ok.json.id}`);
  });

  it('the page: service, description and HK$ amount, in English or Traditional Chinese, strict CSP', async () => {
    const en = (await create()).json;
    const page = await pay('GET', `/pay/${en.id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html lang="en">/);
    assert.match(page.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(page.body, /Pay for Licence renewals/);
    assert.match(page.body, /Driving licence renewal/);
    assert.match(page.body, /HK\$1,234\.50/);
    assert.match(page.body, /Continue to payment/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.match(csp, new RegExp(`form-action 'self' ${new URL(sandbox.url).origin}`));
    assert.doesNotMatch(page.body, /<script|https?:\/\/(?!www\.w3)/, 'no script and no outside asset');
    const zh = (await create({ language: 'zh-Hant' })).json;
    const zhPage = await pay('GET', `/pay/${zh.id}`);
    assert.match(zhPage.body, /<html lang="zh-Hant">/);
    assert.match(zhPage.body, /繳付牌照續期費用/);
    assert.match(zhPage.body, /繼續付款/);
  });

  it('the payment host serves /pay/ and the payments API only; the API host serves no payment page', async () => {
    const p = (await create()).json;
    const keyOnPay = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payments/${p.id}`,
      headers: { host: PAY, authorization: `Bearer ${key}` },
    });
    assert.equal(keyOnPay.statusCode, 200, 'a hosted service reaches the payments API on the payment host');
    assert.equal((await pay('GET', '/api/v1/paymentsX')).statusCode, 404);
    const apiOnPay = await pay('GET', '/api/v1/departments');
    assert.equal(apiOnPay.statusCode, 404);
    assert.match(apiOnPay.body, /No such payment/);
    assert.equal((await pay('GET', '/')).statusCode, 404);
    for (const sneaky of [
      '/pay/../api/v1/departments',
      '/pay/%2e%2e/api/v1/departments',
      '/pay//api/v1/users',
      '/pay/x/y',
      '/api/v1/payments/../users',
    ])
      assert.equal((await pay('GET', sneaky)).statusCode, 404, sneaky);
    assert.equal((await pay('GET', `/pay/${p.id}`, 'localhost:7070')).statusCode, 404);
    assert.equal((await pay('GET', '/pay/not-a-payment')).statusCode, 404);
    // The router sends these to the payment host too (a final dot, any case): they are it here.
    for (const host of [`${PAY}.:8080`, `${PAY}.`, 'Pay.LocalHost.']) {
      const r = await pay('GET', '/api/v1/departments', host);
      assert.equal(r.statusCode, 404, `${host}: ${r.body.slice(0, 200)}`);
      assert.match(r.body, /No such payment/, host);
    }
    // The way back from the provider is built from the Host: one with more than a name and a
    // port opens nothing at the provider.
    for (const host of [`${PAY}:8080@evil.example`, `${PAY}:8080/evil.example`, `${PAY}:8080?`]) {
      const r = await pay('POST', `/pay/${p.id}/continue`, host);
      assert.equal(r.statusCode, 404, `${host}: ${r.headers.location}`);
    }
    assert.equal((await api(key, 'GET', `/payments/${p.id}`)).json.state, 'created', 'never sent on');
  });

  it('pays at the sandbox and returns by a link that works once; a decline and a cancel too', async () => {
    for (const [card, state] of [
      ['4242424242424242', 'success'],
      ['4000000000000002', 'failed'],
      [null, 'cancelled'],
    ] as const) {
      const p = (await create()).json;
      const go = await pay('POST', `/pay/${p.id}/continue`);
      assert.equal(go.statusCode, 303, go.body);
      const provider = String(go.headers.location);
      assert.ok(provider.startsWith(`${sandbox.url}/pay/`), provider);
      const paid = await payOnCardPage(provider, card);
      assert.equal(paid.headers.get('location'), `http://${PAY}:8080/pay/${p.id}/back`);
      const back = await pay('GET', `/pay/${p.id}/back`);
      assert.equal(back.statusCode, 303, back.body);
      const link = String(back.headers.location);
      assert.match(link, /^\/pay\/return\/[\w-]{32}$/);
      const home1 = await pay('GET', link);
      assert.equal(home1.statusCode, 303);
      assert.equal(home1.headers.location, p.returnUrl);
      const again = await pay('GET', link);
      assert.equal(again.statusCode, 410, 'a return link works once');
      assert.match(again.body, /already been used/);
      assert.equal((await pay('GET', `/pay/${p.id}/back`)).statusCode, 410, 'and is issued once');
      assert.equal((await api(key, 'GET', `/payments/${p.id}`)).json.state, state);
      const finished = await pay('GET', `/pay/${p.id}`);
      assert.match(finished.body, /This payment is finished/);
    }
  });

  it('back without paying goes to the page again, and issues no link', async () => {
    const p = (await create()).json;
    assert.equal((await pay('POST', `/pay/${p.id}/continue`)).statusCode, 303);
    const back = await pay('GET', `/pay/${p.id}/back`);
    assert.equal(back.statusCode, 303);
    assert.equal(back.headers.location, `/pay/${p.id}`);
  });

  it('unpaid payments expire: created → cancelled, started → cancelled at the provider then failed, reason expired', async () => {
    const waiting = (await create()).json;
    const atProvider = (await create()).json;
    const left = await pay('POST', `/pay/${atProvider.id}/continue`);
    assert.equal(left.statusCode, 303);
    const done = (await create()).json;
    const go = await pay('POST', `/pay/${done.id}/continue`);
    await payOnCardPage(String(go.headers.location), '4242424242424242');
    const fresh = (await create()).json;
    const old = new Date(Date.now() - 91 * 60_000);
    await sql`update payments set created_at = ${old} where id in (${sql.join([waiting.id, atProvider.id, done.id])})`.execute(
      t.db,
    );
    const expired = await expireUnpaid(t.db, httpProvider(sandbox.url), 90);
    assert.deepEqual(new Set(expired), new Set([waiting.id, atProvider.id]));
    const state = async (id: string) => (await api(key, 'GET', `/payments/${id}`)).json;
    const w = await state(waiting.id);
    assert.equal(w.state, 'cancelled');
    assert.equal(w.events.at(-1).reason, 'expired');
    const a = await state(atProvider.id);
    assert.equal(a.state, 'failed');
    assert.equal(a.events.at(-1).reason, 'expired');
    // It was cancelled at the provider first: the citizen still on its page can no longer pay it.
    await payOnCardPage(String(left.headers.location), '4242424242424242');
    const { provider_ref } = await t.db
      .selectFrom('payments')
      .select('provider_ref')
      .where('id', '=', atProvider.id)
      .executeTakeFirstOrThrow();
    assert.equal((await httpProvider(sandbox.url).status(provider_ref as string)).outcome, 'cancelled');
    const cancels = await t.db
      .selectFrom('provider_calls')
      .select(['state', 'outcome'])
      .where('payment_id', '=', atProvider.id)
      .where('operation', '=', 'cancel')
      .execute();
    assert.deepEqual(cancels, [{ state: 'done', outcome: 'cancelled' }], 'the call recorded');
    assert.equal((await state(done.id)).state, 'success', 'a payment paid meanwhile is brought up to date');
    assert.equal((await state(fresh.id)).state, 'created');
    assert.deepEqual(
      await expireUnpaid(t.db, httpProvider(sandbox.url), 90),
      [],
      'a second round finds none',
    );
  });

  it('payment webhooks: on its own host only, signed, queued with each move, sent through the router with retries', async () => {
    const dev = (await t.user('dept-developer', dept)).token;
    const path = `/services/${dept}/licences/payment-webhook`;
    const hookUrl = `${home}/webhooks/payments`;
    assert.equal((await api(dev, 'GET', path)).status, 404, 'none set yet');
    for (const url of [
      'https://evil.example/hook',
      `http://other.${dept.toLowerCase()}.localhost/hook`,
      `http://u:pw@licences.${dept.toLowerCase()}.localhost/hook`,
    ]) {
      const r = await api(dev, 'PUT', path, { url });
      assert.equal(r.status, 422, `${url}: ${r.body}`);
      assert.equal(r.json.code, 'GOVHOST_PAYMENT_WEBHOOK_URL');
    }
    assert.equal((await api(dev, 'PUT', path, { url: 'ftp://x/' })).status, 400);
    const viewer = (await t.user('dept-viewer', dept)).token;
    assert.equal((await api(viewer, 'PUT', path, { url: hookUrl })).status, 403);
    // Another department can neither set nor see it.
    const otherDev = (await t.user('dept-developer', await t.department('HX'))).token;
    assert.equal((await api(otherDev, 'PUT', path, { url: hookUrl })).status, 404);
    const first = await api(dev, 'PUT', path, { url: `${home}/old` });
    assert.equal(first.status, 200, first.body);
    assert.match(first.json.secret, /^whsec_[\w-]{43}$/, 'the secret, this once');
    const moved = await api(dev, 'PUT', path, { url: hookUrl });
    assert.equal(moved.json.secret, null, 'a new URL keeps the secret');
    const rotated = await api(dev, 'POST', `${path}/rotate-secret`);
    assert.equal(rotated.status, 200, rotated.body);
    const secret = rotated.json.secret as string;
    assert.ok(secret !== first.json.secret);
    const seen = await api(viewer, 'GET', path);
    assert.equal(seen.json.url, hookUrl);
    assert.ok(!seen.body.includes(secret) && !('secret' in seen.json), 'never shown again');
    assert.equal((await api(otherDev, 'GET', path)).status, 404);
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_type', '=', 'payment-webhook')
      .execute();
    assert.deepEqual(audit.map((a) => a.action).sort(), [
      'payment-webhook.rotate',
      'payment-webhook.set',
      'payment-webhook.set',
    ]);

    // A payment paid with 4242… and partly refunded: one webhook per move, queued with the move.
    const p = (await create()).json;
    const go = await pay('POST', `/pay/${p.id}/continue`);
    await payOnCardPage(String(go.headers.location), '4242424242424242');
    assert.equal((await pay('GET', `/pay/${p.id}/back`)).statusCode, 303);
    const refund = await api(key, 'POST', `/payments/${p.id}/refunds`, { amount: 450 }, `rf-${p.id}`);
    assert.equal(refund.status, 201, refund.body);
    const { service_id } = await t.db
      .selectFrom('payments')
      .select('service_id')
      .where('id', '=', p.id)
      .executeTakeFirstOrThrow();
    const queued = async () =>
      (
        await t.db
          .selectFrom('notification_outbox')
          .selectAll()
          .where('sender', '=', 'payments')
          .where('target', '=', service_id)
          .orderBy('created_at')
          .execute()
      ).filter((r) => JSON.parse(r.body).payment.id === p.id);
    const rows = await queued();
    const events = rows.map((r) => JSON.parse(r.body));
    assert.deepEqual(
      events.map((e) => e.type),
      ['payment.started', 'payment.submitted', 'payment.success', 'refund.success'],
    );
    assert.equal(new Set(events.map((e) => e.id)).size, 4, 'each event its own id');
    assert.match(events[0].id, /^payment-event-\d+$/);
    assert.equal(events[3].id, `refund-${refund.json.id}-success`);
    assert.ok(events.every((e) => e.mode === 'test' && e.payment.mode === 'test'));
    assert.equal(events[2].payment.state, 'success');
    assert.deepEqual(events[3].refund, { ...refund.json, state: 'success' });
    assert.equal(events[3].payment.refunded, 450);
    for (const r of rows) assert.ok(!r.body.includes(key) && !r.body.includes(secret), 'nothing secret');
    // A refused move queues nothing: the webhook is written only with the change.
    assert.equal((await api(key, 'POST', `/payments/${p.id}/cancel`)).status, 409);
    assert.equal((await queued()).length, 4);

    // The outbox sends them through the router: here a stand-in for it on loopback, which answers
    // 503 to the first delivery (retried) and checks each one as a service would.
    const got: { host: string; path: string; ok: boolean; body: string }[] = [];
    const router = createServer(async (req, res) => {
      const { ok, body } = await readSigned(req, secret);
      got.push({ host: String(req.headers.host), path: String(req.url), ok, body });
      res.writeHead(got.length === 1 ? 503 : 204).end();
    });
    await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
    const port = (router.address() as AddressInfo).port;
    const box = loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined);
    const quiet = { info() {}, warn() {}, error() {} };
    const dispatcher = new NotificationDispatcher({
      db: t.db,
      box,
      config: t.config,
      log: quiet,
      pollMs: 20,
      retryDelaysMs: [20],
      senders: {
        payments: paymentWebhookSender({
          db: t.db,
          box,
          routerUrl: () => `http://127.0.0.1:${port}`,
          routerHttpsUrl: () => null,
        }),
      },
    });
    dispatcher.start();
    try {
      for (const deadline = Date.now() + 10_000; ; ) {
        const left = (await queued()).filter((r) => r.state !== 'delivered');
        if (left.length === 0) break;
        assert.ok(Date.now() < deadline, `still undelivered: ${JSON.stringify(left)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await dispatcher.stop();
      await new Promise((resolve) => router.close(resolve));
    }
    const mine = got.filter((g) => JSON.parse(g.body).payment.id === p.id);
    assert.equal(mine.length, 5, 'four webhooks, the first twice');
    assert.ok(mine.every((g) => g.ok && g.host === `licences.${dept.toLowerCase()}.localhost:8080`));
    assert.ok(mine.every((g) => g.path === '/webhooks/payments'));
    // Sent side by side, so not necessarily in order: a receiver orders by the payment's state.
    assert.deepEqual(
      mine
        .slice(1)
        .map((g) => g.body)
        .sort(),
      rows.map((r) => r.body).sort(),
      'the bodies as queued, byte for byte',
    );
    assert.equal(mine.filter((g) => g.body === mine[0]?.body).length, 2, 'the retry carries the same event');
    assert.equal((await api(otherDev, 'DELETE', path)).status, 404);
    assert.equal((await api(dev, 'DELETE', path)).status, 204);
    assert.equal((await api(dev, 'GET', path)).status, 404);
  });

  it("payment webhooks over HTTPS: the router's TLS listener, pinned to the stored certificate; http to a redirecting service refused and explained", {
    skip: NO_OPENSSL,
  }, async () => {
    const host = `licences.${dept.toLowerCase()}.localhost`;
    const dev = (await t.user('dept-developer', dept)).token;
    const path = `/services/${dept}/licences/payment-webhook`;
    const ca = new TestCa();
    // The service's instance: records each request with its headers.
    const got: { proto: string; host: string; ok: boolean; body: string }[] = [];
    let secret = '';
    const instance = await startBackend('licences-1', async (req, res) => {
      const { ok, body } = await readSigned(req, secret);
      got.push({ proto: String(req.headers['x-forwarded-proto']), host: String(req.headers.host), ok, body });
      res.writeHead(204).end();
    });
    // A real router listening for HTTP and HTTPS, serving the service with the certificate it is given.
    const router = await startTestRouter({ httpsPort: 0 });
    let version = 1;
    const serve = async (cert: { chain: string; key: string }) =>
      assert.equal(
        (
          await routerAdmin(router, 'PUT', '/routes', {
            version: version++,
            routes: [proxyRoute(host, [{ id: instance.id, url: instance.url }])],
            certificates: [{ id: `c${version}`, ...cert }],
          })
        ).status,
        200,
      );
    const box = loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined);
    const sender = (https: boolean) =>
      paymentWebhookSender({
        db: t.db,
        box,
        routerUrl: () => `http://127.0.0.1:${router.port}`,
        routerHttpsUrl: () => (https ? `https://127.0.0.1:${router.httpsPort}` : null),
      });
    const dispatcher = new NotificationDispatcher({
      db: t.db,
      box,
      config: t.config,
      log: { info() {}, warn() {}, error() {} },
      pollMs: 20,
      retryDelaysMs: [20],
      senders: { payments: sender(true) },
    });
    const rowOf = async (paymentId: string) =>
      (
        await t.db.selectFrom('notification_outbox').selectAll().where('sender', '=', 'payments').execute()
      ).find((r) => JSON.parse(r.body).payment.id === paymentId);
    /** A payment made and cancelled: one `payment.cancelled` webhook queued. */
    const cancelled = async () => {
      const p = (await create()).json;
      assert.equal((await api(key, 'POST', `/payments/${p.id}/cancel`)).status, 200);
      return p.id as string;
    };
    try {
      const stored = ca.issue([host]);
      const stranger = ca.issue([host]);
      const upload = await api(t.adminToken, 'POST', '/certificates', stored);
      assert.equal(upload.status, 201, upload.body);
      // What the sender pins to: the stored leaf for its host names, none for a name it does not cover.
      assert.deepEqual(await storedLeafFingerprints(t.db, host), [upload.json.fingerprint]);
      assert.deepEqual(await storedLeafFingerprints(t.db, `x.${host}`), []);
      await serve(stored);
      // This process runs a router that serves HTTPS; the certificate covers the host; redirect is on
      // (the default): an http URL would never be delivered, so it is refused, saying what to use.
      t.deps.routerTrust = () => ({ platformKey: 'unused here', servesHttps: true });
      const refused = await api(dev, 'PUT', path, { url: `http://${host}:8080/webhooks/payments` });
      assert.equal(refused.status, 422, refused.body);
      assert.equal(refused.json.code, 'GOVHOST_PAYMENT_WEBHOOK_URL');
      assert.match(refused.json.detail, /redirects plain HTTP to HTTPS/);
      assert.match(refused.json.detail, new RegExp(`use https://${host}/webhooks/payments$`));
      const set = await api(dev, 'PUT', path, { url: `https://${host}/webhooks/payments` });
      assert.equal(set.status, 200, set.body);
      secret = set.json.secret;

      // The router presents a certificate for the name that the platform did not store: the
      // connection ends after the handshake, before a byte of the request; the row is retried.
      await serve(stranger);
      const first = await cancelled();
      dispatcher.start();
      const failed = await until('a refused attempt', async () => {
        const r = await rowOf(first);
        return r && r.attempts > 0 && r.last_error ? r : undefined;
      });
      assert.match(
        String(failed.last_error),
        /presented a certificate for licences\.[a-z0-9]+\.localhost that the platform did not store/,
      );
      assert.equal(instance.hits, 0, 'nothing reached the service');
      // Without an HTTPS listener an https webhook cannot go either: the outbox is told why.
      await assert.rejects(
        sender(false)(
          { target: failed.target as string, event: 'payment.cancelled', body: failed.body },
          1000,
        ),
        /the router serves no HTTPS/,
      );
      // The router serves the stored certificate again: the retry arrives over HTTPS, signed.
      await serve(stored);
      await until('the delivery', async () => (await rowOf(first))?.state === 'delivered');
      assert.equal(got.length, 1);
      assert.deepEqual(got[0], { proto: 'https', host, ok: true, body: (await rowOf(first))?.body });

      // An http URL set while the redirect was off, which is then turned on: the 308 is explained.
      assert.equal(
        (await api(dev, 'PATCH', `/services/${dept}/licences/https`, { httpsRedirect: false })).status,
        200,
      );
      assert.equal(
        (await api(dev, 'PUT', path, { url: `http://${host}:8080/webhooks/payments` })).status,
        200,
      );
      assert.equal(
        (await api(dev, 'PATCH', `/services/${dept}/licences/https`, { httpsRedirect: true })).status,
        200,
      );
      const second = await cancelled();
      const redirected = await until('a redirected attempt', async () => {
        const r = await rowOf(second);
        return r?.last_error ? r : undefined;
      });
      assert.equal(
        redirected.last_error,
        `HTTP 308: ${host} redirects plain HTTP to HTTPS, so a webhook to an http URL is never delivered; set the webhook URL to https://${host}/webhooks/payments`,
      );
      assert.equal(got.length, 1, 'the redirect reached no instance');
    } finally {
      await dispatcher.stop();
      t.deps.routerTrust = undefined;
      await api(dev, 'DELETE', path);
      await router.close(0);
      await instance.close();
      ca.close();
    }
  });

  it('GOVHOST_PAYMENTS_EXPIRY_MINUTES is checked', async () => {
    const { loadConfig } = await import('../platform/config.ts');
    assert.throws(
      () => loadConfig({ GOVHOST_PAYMENTS_EXPIRY_MINUTES: '2' }, {}),
      /GOVHOST_PAYMENTS_EXPIRY_MINUTES/,
    );
    assert.equal(loadConfig({ GOVHOST_PAYMENTS_EXPIRY_MINUTES: '30' }, {}).paymentsExpiryMinutes, 30);
  });
});
