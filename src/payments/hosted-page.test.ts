// test-seconds: 20
// The hosted payment page on the payment host (decision 043), on a real store and the real
// sandbox process: the return URL checked at create (only the service's own host names), the
// page in both languages under a strict CSP, only /pay/ served on the payment host, the round trip
// to the sandbox and back with a return link that works once, and the expiry of unpaid payments.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';
import { expireUnpaid } from './expiry.job.ts';
import { httpProvider } from './provider.ts';
import { payOnCardPage, type RunningSandbox, startSandbox } from './sandbox/sandbox.testing.ts';

const PAY = 'pay.localhost';

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

  it('unpaid payments expire: created → cancelled, started → failed, both with reason expired', async () => {
    const waiting = (await create()).json;
    const atProvider = (await create()).json;
    assert.equal((await pay('POST', `/pay/${atProvider.id}/continue`)).statusCode, 303);
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
    assert.equal((await state(done.id)).state, 'success', 'a payment paid meanwhile is brought up to date');
    assert.equal((await state(fresh.id)).state, 'created');
    assert.deepEqual(
      await expireUnpaid(t.db, httpProvider(sandbox.url), 90),
      [],
      'a second round finds none',
    );
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
