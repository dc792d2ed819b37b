// The payment service's foundation through the API on a real store (PGlite, or PostgreSQL when
// the run says so): payment keys shown once and refused to staff tokens and to other services,
// idempotent creates (20 concurrent retries make one payment), the one transition table, a
// balanced ledger written with each state change, refunds that never exceed the capture even
// when they race, search, and isolation between departments.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';
import { balances } from './ledger.ts';
import { transition } from './payment.logic.ts';
import { feesService } from './payments.testing.ts';
import { httpProvider } from './provider.ts';
import { startAtProvider, syncWithProvider } from './provider-flow.ts';
import { payOnCardPage, type RunningSandbox, startSandbox } from './sandbox/sandbox.testing.ts';

describe('payments', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let devA: string;
  let devB: string;
  let viewerA: string;
  let operator: string;
  let keyA: string;
  let keyB: string;
  let sandbox: RunningSandbox;
  let n = 0;
  const call = async (token: string, method: string, url: string, payload?: unknown, idem?: string) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: idem === undefined ? {} : { 'idempotency-key': idem },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      status: res.statusCode,
      json: res.body ? res.json() : null,
      body: res.body,
      headers: res.headers,
    };
  };
  const body = (over: Record<string, unknown> = {}) => ({
    amount: 15_000,
    reference: `LIC-${++n}`,
    description: 'Licence renewal',
    returnUrl: `https://licences.${a.toLowerCase()}.localhost/done`,
    ...over,
  });
  const create = (key: string, over: Record<string, unknown> = {}, idem = `k-${n + 1}-${Math.random()}`) =>
    call(key, 'POST', '/payments', body(over), idem);
  /** A payment the citizen pays with `card` on the sandbox's page, brought up to date. */
  const paid = async (key: string, amount: number, card: string | null) => {
    const p = await create(key, { amount });
    assert.equal(p.status, 201, p.body);
    const provider = httpProvider(sandbox.url);
    const any = { departmentId: null };
    const { redirectUrl } = await startAtProvider(t.db, provider, any, p.json.id);
    assert.equal((await payOnCardPage(redirectUrl, card)).status, 303);
    await syncWithProvider(t.db, provider, any, p.json.id);
    return p.json.id as string;
  };
  const captured = (key: string, amount: number) => paid(key, amount, '4242424242424242');

  before(async () => {
    sandbox = await startSandbox();
    // The sandbox stands in as the live provider too (decision 049); no router until a test says so.
    t = await testApp({ paymentsSandboxUrl: sandbox.url, paymentsLiveProviderUrl: 'sandbox' });
    a = await t.department('PA');
    b = await t.department('PB');
    devA = (await t.user('dept-developer', a)).token;
    devB = (await t.user('dept-developer', b)).token;
    viewerA = (await t.user('dept-viewer', a)).token;
    operator = (await t.user('operator')).token;
    for (const [token, department, slug] of [
      [devA, a, 'licences'],
      [devB, b, 'permits'],
    ] as const) {
      const svc = await call(token, 'POST', '/services', {
        department,
        slug,
        nameEn: slug,
        nameZh: slug,
        origin: 'new',
        channels: ['web'],
        slaTier: 'silver',
      });
      assert.equal(svc.status, 201, svc.body);
    }
    keyA = (await call(devA, 'POST', `/services/${a}/licences/payment-keys`, { name: 'web' })).json.secret;
    keyB = (await call(devB, 'POST', `/services/${b}/permits/payment-keys`, { name: 'web' })).json.secret;
    assert.match(keyA, /^ghp_test_/);
  });
  after(async () => {
    await t.close();
    await sandbox.stop();
  });

  it('keys: made by developers and shown once; viewers may not; live keys refused without HTTPS', async () => {
    const list = await call(viewerA, 'GET', `/services/${a}/licences/payment-keys`);
    assert.equal(list.status, 200, list.body);
    assert.equal(list.json.items.length, 1);
    assert.equal(list.json.items[0].prefix, keyA.slice(0, 15));
    assert.ok(!list.body.includes(keyA), 'a listed key never carries its secret');
    const stored = await sql<{
      n: number;
    }>`select count(*)::int as n from payment_keys where key_hash like ${`%${keyA}%`}`.execute(t.db);
    assert.equal(stored.rows[0]?.n, 0, 'the secret is stored hashed');
    const viewer = await call(viewerA, 'POST', `/services/${a}/licences/payment-keys`, { name: 'x' });
    assert.equal(viewer.status, 403);
    const live = await call(devA, 'POST', `/services/${a}/licences/payment-keys`, {
      name: 'x',
      mode: 'live',
    });
    assert.equal(live.status, 403);
    assert.equal(live.json.code, 'GOVHOST_PAYMENT_LIVE_UNAVAILABLE');
    assert.match(live.json.detail, /router does not serve HTTPS/);
    const staff = await call(devA, 'GET', '/payments');
    assert.equal(staff.status, 401, 'a staff token is not a payment key');
    const none = await t.request(null, { method: 'POST', url: '/api/v1/payments', payload: {} });
    assert.equal(none.statusCode, 401, 'no key: 401 before the body is even looked at');
  });

  it('create: needs an Idempotency-Key; the same key and body replay, another body is a 409', async () => {
    const missing = await call(keyA, 'POST', '/payments', body());
    assert.equal(missing.status, 400);
    const bad = await create(keyA, { amount: 12.5 });
    assert.equal(bad.status, 400, 'amounts are whole cents');
    const plain = await create(keyA, { returnUrl: 'ftp://licences.example.gov.hk/' });
    assert.equal(plain.status, 400, 'return URLs are HTTP(S)');
    // Half a UTF-16 pair, which JSON may escape: the request's hash could not be made (a 500).
    const lone = await create(keyA, { reference: 'LIC-\ud800' });
    assert.equal(lone.status, 400, lone.body);
    assert.match(lone.json.detail, /reference must not contain a lone surrogate/);
    const payload = body({ language: 'zh-Hant', metadata: { licence: 'L-1', renewal: true } });
    const first = await call(keyA, 'POST', '/payments', payload, 'same-key');
    assert.equal(first.status, 201, first.body);
    assert.equal(first.json.state, 'created');
    assert.equal(first.json.currency, 'HKD');
    assert.deepEqual(first.json.metadata, { licence: 'L-1', renewal: true });
    const again = await call(keyA, 'POST', '/payments', { ...payload }, 'same-key');
    assert.equal(again.status, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.json.id, first.json.id);
    const other = await call(keyA, 'POST', '/payments', { ...payload, amount: 1 }, 'same-key');
    assert.equal(other.status, 409);
    assert.equal(other.json.code, 'GOVHOST_IDEMPOTENCY_KEY_REUSED');
    const own = { ...payload, returnUrl: `https://permits.${b.toLowerCase()}.localhost/done` };
    const otherService = await call(keyB, 'POST', '/payments', own, 'same-key');
    assert.equal(otherService.status, 201, 'keys are per service: B has its own "same-key"');
    assert.notEqual(otherService.json.id, first.json.id);
  });

  it('20 concurrent creates with one Idempotency-Key make exactly one payment', async () => {
    const payload = body({ reference: 'RACE-1' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call(keyA, 'POST', '/payments', payload, 'race-key')),
    );
    assert.deepEqual(
      answers.map((r) => r.status).sort(),
      [...Array(19).fill(200), 201],
      'one made it, 19 replayed it',
    );
    assert.equal(new Set(answers.map((r) => r.json.id)).size, 1);
    const rows = await t.db.selectFrom('payments').select('id').where('reference', '=', 'RACE-1').execute();
    assert.equal(rows.length, 1);
  });

  it('states move by the one table only, each move an event; a capture posts a balanced entry', async () => {
    const p = await create(keyA);
    const cancelled = await call(keyA, 'POST', `/payments/${p.json.id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.body);
    assert.equal(cancelled.json.state, 'cancelled');
    const twice = await call(keyA, 'POST', `/payments/${p.json.id}/cancel`);
    assert.equal(twice.status, 409);
    assert.deepEqual(twice.json.allowed, []);
    await assert.rejects(
      transition(t.db, { departmentId: null }, p.json.id, 'success', 'captured'),
      /cannot become/,
    );

    const id = await captured(keyA, 2_500);
    const got = await call(keyA, 'GET', `/payments/${id}`);
    assert.equal(got.json.state, 'success');
    assert.deepEqual(
      got.json.events.map((e: { to: string; reason: string }) => `${e.to}:${e.reason}`),
      [
        'created:service_created',
        'started:citizen_arrived',
        'submitted:details_submitted',
        'success:captured',
      ],
    );
    const calls = await t.db
      .selectFrom('provider_calls')
      .select(['operation', 'state'])
      .where('payment_id', '=', id)
      .execute();
    assert.deepEqual(calls, [{ operation: 'authorise', state: 'done' }], 'the provider call was recorded');
    const declined = await call(keyA, 'GET', `/payments/${await paid(keyA, 700, '4000000000000002')}`);
    assert.equal(declined.json.state, 'failed');
    assert.equal(declined.json.events.at(-1).reason, 'declined');
    const gaveUp = await call(keyA, 'GET', `/payments/${await paid(keyA, 700, null)}`);
    assert.equal(gaveUp.json.state, 'cancelled');
    assert.equal(gaveUp.json.events.at(-1).reason, 'citizen_cancelled');
    const late = await call(keyA, 'POST', `/payments/${id}/cancel`);
    assert.equal(late.status, 409, 'a captured payment is refunded, not cancelled');
    assert.deepEqual(await balances(t.db, { paymentId: id }), {
      provider_clearing: 2_500,
      service_receivable: -2_500,
      refunds: 0,
      fees: 0,
      bank: 0,
    });
  });

  it('refunds: partial, then never beyond the capture, also when ten race; replays and 409s', async () => {
    const id = await captured(keyA, 1_000);
    const part = await call(keyA, 'POST', `/payments/${id}/refunds`, { amount: 100 }, 'r-1');
    assert.equal(part.status, 201, part.body);
    assert.equal(part.json.state, 'success');
    const replay = await call(keyA, 'POST', `/payments/${id}/refunds`, { amount: 100 }, 'r-1');
    assert.equal(replay.status, 200);
    assert.equal(replay.json.id, part.json.id);
    const reused = await call(keyA, 'POST', `/payments/${id}/refunds`, { amount: 200 }, 'r-1');
    assert.equal(reused.status, 409);

    // 900 cents left; ten refunds of 300 race: exactly three can pass.
    const raced = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(keyA, 'POST', `/payments/${id}/refunds`, { amount: 300 }, `race-${i}`),
      ),
    );
    assert.equal(raced.filter((r) => r.status === 201).length, 3, raced.map((r) => r.status).join());
    const refused = raced.filter((r) => r.status === 409);
    assert.equal(refused.length, 7);
    assert.equal(refused[0]?.json.code, 'GOVHOST_REFUND_EXCEEDS_CAPTURE');
    const after = await call(keyA, 'GET', `/payments/${id}`);
    assert.equal(after.json.refunded, 1_000);
    assert.equal(after.json.refundable, 0);
    const list = await call(keyA, 'GET', `/payments/${id}/refunds`);
    assert.equal(list.json.items.length, 4);
    assert.deepEqual(await balances(t.db, { paymentId: id }), {
      provider_clearing: 0,
      service_receivable: -1_000,
      refunds: 1_000,
      fees: 0,
      bank: 0,
    });
    const unpaid = await create(keyA);
    const early = await call(keyA, 'POST', `/payments/${unpaid.json.id}/refunds`, { amount: 1 }, 'r-early');
    assert.equal(early.status, 409, 'nothing captured, nothing to refund');
  });

  it('search by reference, state and date, paged; staff list a service’s payments', async () => {
    const byRef = await call(keyA, 'GET', '/payments?reference=RACE-1');
    assert.equal(byRef.json.total, 1);
    const success = await call(keyA, 'GET', '/payments?state=success&limit=1');
    assert.equal(success.json.items.length, 1);
    assert.equal(success.json.total, 2);
    const future = await call(
      keyA,
      'GET',
      `/payments?fromDate=${encodeURIComponent('2999-01-01T00:00:00Z')}`,
    );
    assert.equal(future.json.total, 0);
    const badState = await call(keyA, 'GET', '/payments?state=paid');
    assert.equal(badState.status, 400);
    // RFC 3339 has a year 0000 (and an offset can reach it or 10000); PostgreSQL's timestamps do not.
    for (const at of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00']) {
      const r = await call(keyA, 'GET', `/payments?fromDate=${encodeURIComponent(at)}`);
      assert.equal(r.status, 400, `${at}: ${r.body}`);
      assert.match(r.json.detail, /fromDate must match format "date-time"/);
    }
    const first = await call(keyA, 'GET', `/payments?toDate=${encodeURIComponent('0001-01-01T00:00:00Z')}`);
    assert.equal(first.json.total, 0, 'the first year still is one');
    const staff = await call(viewerA, 'GET', `/services/${a}/licences/payments?state=success`);
    assert.equal(staff.status, 200, staff.body);
    assert.equal(staff.json.total, 2);
    const ops = await call(operator, 'GET', `/services/${b}/permits/payments`);
    assert.equal(ops.json.total, 1, 'operators see every department');
  });

  it("one department's keys and staff neither see nor touch another's payments", async () => {
    const id = await captured(keyA, 500);
    for (const [method, url, payload] of [
      ['GET', `/payments/${id}`, undefined],
      ['GET', `/payments/${id}/refunds`, undefined],
      ['POST', `/payments/${id}/cancel`, undefined],
      ['POST', `/payments/${id}/refunds`, { amount: 1 }],
    ] as const) {
      const r = await call(keyB, method, url, payload, 'iso');
      assert.equal(r.status, 404, `${method} ${url}: ${r.body}`);
    }
    const search = await call(keyB, 'GET', '/payments?reference=RACE-1');
    assert.equal(search.json.total, 0);
    const staff = await call(devB, 'GET', `/services/${a}/licences/payments`);
    assert.equal(staff.status, 404);
    const keys = await call(devB, 'GET', `/services/${a}/licences/payment-keys`);
    assert.equal(keys.status, 404);
    const got = await call(keyA, 'GET', `/payments/${id}`);
    assert.equal(got.json.refunded, 0);
  });

  it('a revoked key stops at once; every ledger posting balances', async () => {
    const made = await call(devA, 'POST', `/services/${a}/licences/payment-keys`, { name: 'temp' });
    const ok = await call(made.json.secret, 'GET', '/payments');
    assert.equal(ok.status, 200);
    const gone = await call(devA, 'DELETE', `/services/${a}/licences/payment-keys/${made.json.key.id}`);
    assert.equal(gone.status, 200, gone.body);
    assert.ok(gone.json.revokedAt);
    const after = await call(made.json.secret, 'GET', '/payments');
    assert.equal(after.status, 401);
    const unbalanced =
      await sql`select posting_id from ledger_entries group by posting_id having sum(amount) <> 0`.execute(
        t.db,
      );
    assert.equal(unbalanced.rows.length, 0);
    const total = await balances(t.db);
    assert.equal(
      Object.values(total).reduce((s, v) => s + v, 0),
      0,
    );
  });

  it('live keys: made once the router serves HTTPS, used only over HTTPS through it', async () => {
    // What this process knows of its router: its platform key, and that it listens for HTTPS.
    const platformKey = 'k'.repeat(43);
    t.deps.routerTrust = () => ({ platformKey, servesHttps: true });
    try {
      const made = await call(devA, 'POST', `/services/${a}/licences/payment-keys`, {
        name: 'live',
        mode: 'live',
      });
      assert.equal(made.status, 201, made.body);
      const live = made.json.secret as string;
      assert.match(live, /^ghp_live_/);
      const payload = body();
      const send = (headers: Record<string, string>, over: Record<string, unknown> = {}) =>
        t.request(live, {
          method: 'POST',
          url: '/api/v1/payments',
          headers: { 'idempotency-key': `live-${Math.random()}`, host: 'pay.localhost', ...headers },
          payload: { ...payload, ...over },
        });
      // Straight to the platform's port, or with the router's headers forged: refused, precisely.
      const forged: Record<string, string>[] = [
        {},
        { 'x-forwarded-proto': 'https' },
        { 'x-forwarded-proto': 'https', 'x-govhost-router-key': 'x'.repeat(43) },
        { 'x-forwarded-proto': 'http', 'x-govhost-router-key': platformKey },
      ];
      for (const headers of forged) {
        const refused = await send(headers);
        assert.equal(refused.statusCode, 403, JSON.stringify(headers));
        assert.equal(refused.json().code, 'GOVHOST_PAYMENT_LIVE_UNAVAILABLE');
        assert.match(refused.json().detail, /only over HTTPS through the router/);
      }
      const https = { 'x-forwarded-proto': 'https', 'x-govhost-router-key': platformKey };
      const plainReturn = await send(https, { returnUrl: `http://licences.${a.toLowerCase()}.localhost/` });
      assert.equal(plainReturn.statusCode, 422, 'a live return URL is https');
      assert.equal(plainReturn.json().code, 'GOVHOST_PAYMENT_RETURN_URL');
      const ok = await send(https);
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(ok.json().mode, 'live');
      assert.equal(ok.json().nextUrl, `https://pay.localhost/pay/${ok.json().id}`);
      // Live and test payments of one service do not see each other; another department's key neither.
      assert.equal((await call(keyA, 'GET', `/payments/${ok.json().id}`)).status, 404);
      assert.equal((await call(keyB, 'GET', `/payments/${ok.json().id}`)).status, 404);
      // The hosted page sends a live payment's citizen on only over HTTPS through the router.
      const cont = (headers: Record<string, string>) =>
        t.request(null, {
          method: 'POST',
          url: `/pay/${ok.json().id}/continue`,
          headers: { host: 'pay.localhost', ...headers },
        });
      assert.equal((await cont({ 'x-forwarded-proto': 'https' })).statusCode, 503);
      const on = await cont(https);
      assert.equal(on.statusCode, 303, on.body);
      assert.ok(on.headers.location?.startsWith(sandbox.url), 'to the live provider (the sandbox here)');
      // Without the router (an API-only replica): live keys are neither made nor used.
      t.deps.routerTrust = () => null;
      assert.equal((await send(https)).statusCode, 403);
    } finally {
      t.deps.routerTrust = undefined;
    }
  });

  it('a service with payments cannot be deleted (409), so its ledger keeps its meaning', async () => {
    const del = await call(devA, 'DELETE', `/services/${a}/licences`);
    assert.equal(del.status, 409, del.body);
    assert.equal(del.json.code, 'GOVHOST_SERVICE_IN_USE');
  });

  it('staff: a summary per service and day, a payment in full, refunds by its department admin (audited), the CSV; no other department sees any of it', async () => {
    const fees = await feesService(t, 'PC');
    const { token: admin, username: adminName } = await t.user('dept-admin', fees.dept);
    const finance = (await t.user('finance')).token;
    const pay = async (amount: number, card: string | null, reference?: string) => {
      const p = await call(
        fees.key,
        'POST',
        '/payments',
        body({ amount, returnUrl: fees.returnUrl, ...(reference ? { reference } : {}) }),
        `s-${++n}`,
      );
      assert.equal(p.status, 201, p.body);
      if (card === 'none') return p.json.id as string;
      const provider = httpProvider(sandbox.url);
      const { redirectUrl } = await startAtProvider(t.db, provider, { departmentId: null }, p.json.id);
      assert.equal((await payOnCardPage(redirectUrl, card)).status, 303);
      await syncWithProvider(t.db, provider, { departmentId: null }, p.json.id);
      return p.json.id as string;
    };
    // Two captured (HK$450 and HK$120), one declined, one never paid (with a reference a
    // spreadsheet would run as a formula): counted by hand below. The window is the UTC days
    // they were made in (two, should midnight pass in between).
    const first = new Date().toISOString().slice(0, 10);
    const p1 = await pay(45_000, '4242424242424242');
    await pay(12_000, '4242424242424242');
    const declined = await pay(9_900, '4000000000000002');
    await pay(5_000, 'none', '=1+1');
    const today = new Date().toISOString().slice(0, 10);
    const days = [...new Set([first, today])];
    const summary = async (token: string, query: string) => call(token, 'GET', `/payment-summary?${query}`);

    const s1 = await summary(admin, `department=${fees.dept}&from=${first}&to=${today}`);
    assert.equal(s1.status, 200, s1.body);
    assert.deepEqual(s1.json.totals, {
      payments: 4,
      succeeded: 2,
      finished: 3,
      successRate: 2 / 3,
      captured: 57_000,
      refunds: 0,
      refunded: 0,
    });
    assert.deepEqual(
      s1.json.services.map((x: { department: string; service: string }) => `${x.department}/${x.service}`),
      [`${fees.dept}/fees`],
    );
    assert.deepEqual(
      s1.json.periods.map((x: { period: string }) => x.period),
      days,
    );

    // Refunds: the department's admin only; a partial one, its replay, then one over the rest.
    const refund = (token: string, id: string, amount: number, idem: string) =>
      call(token, 'POST', `/services/${fees.dept}/fees/payments/${id}/refunds`, { amount }, idem);
    for (const role of ['dept-developer', 'dept-viewer'] as const) {
      const other = await refund((await t.user(role, fees.dept)).token, p1, 100, 'no');
      assert.equal(other.status, 403, `${role}: ${other.body}`);
    }
    for (const token of [operator, finance]) assert.equal((await refund(token, p1, 100, 'no')).status, 403);
    assert.equal((await refund(admin, p1, 10_000, '')).status, 400, 'an Idempotency-Key is required');
    const r1 = await refund(admin, p1, 10_000, 'console-1');
    assert.equal(r1.status, 201, r1.body);
    assert.equal(r1.json.state, 'success');
    const replay = await refund(admin, p1, 10_000, 'console-1');
    assert.equal(replay.status, 200);
    assert.equal(replay.json.id, r1.json.id, 'a double click refunds once');
    const over = await refund(admin, p1, 35_001, 'console-2');
    assert.equal(over.status, 409, over.body);
    assert.equal(over.json.code, 'GOVHOST_REFUND_EXCEEDS_CAPTURE');
    assert.equal(over.json.detail, '35000 cents are left to refund');
    const nothing = await refund(admin, declined, 100, 'console-3');
    assert.equal(nothing.status, 409);
    assert.equal(nothing.json.detail, 'a failed payment has nothing to refund');
    const audit = await call(admin, 'GET', '/audit?action=payment.refund');
    assert.equal(audit.status, 200, audit.body);
    assert.deepEqual(
      audit.json.items.map((x: { actor: string; targetId: string }) => [x.actor, x.targetId]),
      [[adminName, p1]],
      'one audit record, for the one refund made',
    );

    const detail = await call(admin, 'GET', `/services/${fees.dept}/fees/payments/${p1}`);
    assert.equal(detail.status, 200, detail.body);
    assert.deepEqual(
      detail.json.events.map((e: { to: string; reason: string }) => `${e.to}:${e.reason}`),
      [
        'created:service_created',
        'started:citizen_arrived',
        'submitted:details_submitted',
        'success:captured',
      ],
    );
    assert.deepEqual(
      detail.json.refunds.map((r: { amount: number; state: string }) => [r.amount, r.state]),
      [[10_000, 'success']],
    );
    assert.deepEqual(
      detail.json.ledger.map((p: { kind: string; entries: { amount: number }[] }) => [
        p.kind,
        p.entries.reduce((sum, e) => sum + e.amount, 0),
      ]),
      [
        ['capture', 0],
        ['refund', 0],
      ],
    );
    assert.equal(detail.json.refundable, 35_000);

    const s2 = await summary(finance, `from=${first}&to=${today}&by=month`);
    const mine = s2.json.services.find((x: { department: string }) => x.department === fees.dept);
    assert.deepEqual([mine.refunds, mine.refunded, mine.captured], [1, 10_000, 57_000]);
    assert.deepEqual(
      s2.json.periods.map((x: { period: string }) => x.period),
      [...new Set(days.map((d) => d.slice(0, 7)))],
    );
    assert.ok(s2.json.services.length > 1, 'finance sees every department');

    const report = await t.request(admin, {
      method: 'GET',
      url: `/api/v1/payment-report?department=${fees.dept}&service=fees&from=${first}&to=${today}`,
    });
    const csv = { status: report.statusCode, headers: report.headers, body: report.body };
    assert.equal(csv.status, 200, csv.body);
    assert.match(String(csv.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.match(
      String(csv.headers['content-disposition']),
      new RegExp(`payments-${fees.dept}-fees-${first}-to-${today}\\.csv`),
    );
    const lines = csv.body.split('\r\n');
    assert.equal(lines.pop(), '', 'every line ends with CRLF');
    assert.equal(
      lines[0],
      'record,department,service,mode,payment_id,refund_id,reference,state,amount,refunded,created_at,updated_at',
    );
    assert.deepEqual(
      lines.slice(1).map((l: string) => {
        const f = l.split(',');
        return `${f[0]} ${f[6]?.startsWith('LIC-') ? 'LIC' : f[6]} ${f[7]} ${f[8]} ${f[9]}`;
      }),
      [
        'payment LIC success 45000 10000',
        'payment LIC success 12000 0',
        'payment LIC failed 9900 0',
        "payment '=1+1 created 5000 0",
        'refund LIC success 10000 ',
      ],
    );
    const live = await summary(admin, `department=${fees.dept}&from=${first}&to=${today}&mode=live`);
    assert.equal(live.json.totals.payments, 0, 'every payment here is a test one');

    // Another department: as if none of it existed.
    for (const url of [
      `/payment-summary?department=${fees.dept}`,
      `/payment-report?department=${fees.dept}`,
      `/services/${fees.dept}/fees/payments/${p1}`,
      `/services/${a}/licences/payments/${p1}`,
    ]) {
      const r = await call(devB, 'GET', url);
      assert.equal(r.status, 404, `${url}: ${r.body}`);
    }
    const otherAdmin = (await t.user('dept-admin', b)).token;
    assert.equal((await refund(otherAdmin, p1, 100, 'x')).status, 404);
    const own = await summary(devB, `from=${first}&to=${today}`);
    assert.ok(
      own.json.services.every((x: { department: string }) => x.department === b),
      own.body,
    );

    const bad = await summary(admin, `from=${today}&to=2020-01-01`);
    assert.equal(bad.status, 400);
    assert.match(bad.json.detail, /is after to/);
    const long = await summary(admin, 'from=2020-01-01&to=2022-01-01');
    assert.equal(long.status, 400);
    assert.match(long.json.detail, /at most 366 days by day/);
    // The window's end is the day after `to`: past the year 9999, PostgreSQL refused it (a 500).
    for (const q of ['from=9999-12-01&to=9999-12-31', 'from=0000-01-01&to=0000-01-31']) {
      const r = await summary(admin, q);
      assert.equal(r.status, 400, `${q}: ${r.body}`);
      assert.match(r.json.detail, /is not a day \(YYYY-MM-DD, years 0001 to 9998\)/);
    }
    const service = await summary(admin, 'service=fees');
    assert.equal(service.status, 400, 'a service needs its department');
  });
  it('fuzz: hostile values in every field of the payments and finance routes get a 4xx problem that wrote nothing', async () => {
    // Bounded and seeded: FUZZ_CASES requests picked from every route's fields × the values below,
    // each a valid request with one field made hostile (a replaced value or an unknown field).
    const FUZZ_CASES = 150;
    const finance = (await t.user('finance')).token;
    const id = (await create(keyA)).json.id as string;
    const HOSTILE: unknown[] = [
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      2 ** 53 + 1,
      '100',
      '',
      ' ',
      'x'.repeat(300),
      'x'.repeat(70_000),
      '\ud800',
      'a\u0000b',
      '\u001b[31m',
      '=1+1',
      '<script>alert(1)</script>',
      [],
      {},
      { a: { b: { c: 1 } } },
      '１００',
      'NaN',
      '-0',
      '9'.repeat(400),
      '2026-02-30',
      '0000-01-01T00:00:00Z',
      '9999-12-31',
      '0000-01',
      '../../etc/passwd',
      '%00',
      'http://evil.example/',
      '//evil.example',
      'javascript:alert(1)',
      '__proto__',
      'constructor',
    ];
    type Route = { token: string; method: 'GET' | 'POST' | 'PUT'; path: string; idem?: boolean } & (
      | { query: Record<string, unknown> }
      | { body: Record<string, unknown> }
    );
    const month = new Date().toISOString().slice(0, 7);
    const routes: Route[] = [
      { token: keyA, method: 'POST', path: '/payments', idem: true, body: body() },
      { token: keyA, method: 'POST', path: `/payments/${id}/refunds`, idem: true, body: { amount: 1 } },
      {
        token: keyA,
        method: 'GET',
        path: '/payments',
        query: { reference: 'R', state: 'created', limit: 5 },
      },
      {
        token: devA,
        method: 'GET',
        path: `/services/${a}/licences/payments`,
        query: { limit: 5, offset: 0 },
      },
      {
        token: finance,
        method: 'GET',
        path: '/payment-summary',
        query: { department: a, from: '2026-01-01', by: 'day' },
      },
      { token: finance, method: 'GET', path: '/payment-report', query: { department: a, to: '2026-01-31' } },
      { token: finance, method: 'GET', path: '/payment-reconciliations', query: { department: a, limit: 5 } },
      {
        token: finance,
        method: 'POST',
        path: '/payment-reconciliations',
        body: { day: '2026-01-01', department: a },
      },
      {
        token: devA,
        method: 'POST',
        path: `/services/${a}/licences/payment-keys`,
        body: { name: 'fuzz', mode: 'test' },
      },
      {
        token: devA,
        method: 'PUT',
        path: `/services/${a}/licences/payment-webhook`,
        body: { url: `http://licences.${a.toLowerCase()}.localhost/hook` },
      },
      {
        token: finance,
        method: 'GET',
        path: '/finance/statements',
        query: { department: a, month, format: 'csv' },
      },
      {
        token: finance,
        method: 'GET',
        path: '/finance/expected-charge',
        query: { department: a, year: '2026-27' },
      },
      {
        token: finance,
        method: 'GET',
        path: '/finance/rates/proposal',
        query: { year: '2015-16', utilisation: 0.8, memoryShare: 0.5 },
      },
      {
        token: finance,
        method: 'POST',
        path: '/finance/adjustments',
        body: { department: a, month, amountCents: 1, reason: 'fuzz' },
      },
      {
        token: finance,
        method: 'POST',
        path: '/finance/rates',
        body: { resource: 'memory', validFrom: '2099-01-01', centsPerUnit: 1 },
      },
      {
        token: finance,
        method: 'PUT',
        path: `/finance/budgets/${a}/${month}`,
        body: { amountCents: 100, thresholds: [80] },
      },
      { token: finance, method: 'POST', path: '/finance/scenarios', body: { name: 'fuzz-copy' } },
    ];
    // Paths and query strings carry text only, and a URL cannot carry half a UTF-16 pair.
    const asText = (v: unknown) =>
      (typeof v === 'string' ? v : JSON.stringify(v)).replace(/[\ud800-\udfff]/g, '\ufffd');
    const cases = routes.flatMap((r) => {
      const fields = Object.keys('query' in r ? r.query : r.body);
      return [...fields, 'unknownField'].flatMap((field) => HOSTILE.map((value) => ({ r, field, value })));
    });
    const picked = fc.sample(fc.constantFrom(...cases), { seed: 20261208, numRuns: FUZZ_CASES });
    // Every route once with broken JSON, a form and a body past the limit.
    const raw = routes
      .filter((r) => 'body' in r)
      .flatMap((r) => [
        { r, payload: '{"amount":', type: 'application/json' },
        { r, payload: 'amount=1', type: 'application/x-www-form-urlencoded' },
        {
          r,
          payload: JSON.stringify({ huge: 'x'.repeat(t.config.bodyLimit + 1) }),
          type: 'application/json',
        },
      ]);
    // What these routes write: payments and their ledger, payment webhooks, finance and the audit.
    const tables = (
      await sql<{ name: string }>`select table_name as name from information_schema.tables
        where table_schema = current_schema() and table_type = 'BASE TABLE' and (table_name like 'payment%'
        or table_name like 'ledger%' or table_name like 'finance%' or table_name in
        ('provider_calls', 'audit_log', 'notification_outbox'))`.execute(t.db)
    ).rows.map((r) => r.name);
    const rows = async () =>
      (
        await sql<{ n: string }>`select concat_ws(',', ${sql.join(
          tables.map((name) => sql`(select count(*) from ${sql.table(name)})`),
        )}) as n`.execute(t.db)
      ).rows[0]?.n;
    const failures: string[] = [];
    let i = 0;
    // The counts after one request are those before the next: one count query a request.
    let before = await rows();
    const send = async (
      r: Route,
      what: string,
      content: { payload: string; type: string } | null,
      query = '',
    ) => {
      const res = await t.request(r.token, {
        method: r.method,
        url: `/api/v1${r.path}${query}`,
        headers: {
          ...(r.idem ? { 'idempotency-key': `fuzz-${++i}` } : {}),
          ...(content ? { 'content-type': content.type } : {}),
        },
        ...(content ? { payload: content.payload } : {}),
      });
      const problems: string[] = [];
      if (res.statusCode >= 500) problems.push(`a ${res.statusCode}`);
      if (/\bat .*\.[cm]?[jt]s:\d+:\d+/.test(res.body)) problems.push('a stack trace');
      if (res.statusCode >= 400) {
        if (!/^application\/problem\+json/.test(String(res.headers['content-type'])))
          problems.push('not a problem document');
        else if (res.json().status !== res.statusCode) problems.push('a problem without its status');
      }
      const after = await rows();
      if (res.statusCode >= 400 && after !== before) problems.push('a refusal that wrote');
      before = after;
      if (problems.length > 0)
        failures.push(
          `${problems.join(', ')}: ${r.method} ${r.path} ${what} → ${res.statusCode} ${res.body.slice(0, 200)}`,
        );
    };
    const started = Date.now();
    for (const { r, field, value } of picked) {
      const what = `${field}=${asText(value).slice(0, 40)}`;
      if ('query' in r) {
        const q = new URLSearchParams(
          Object.entries({ ...r.query, [field]: value }).map(([k, v]): [string, string] => [k, asText(v)]),
        );
        await send(r, what, null, `?${q}`);
      } else {
        await send(r, what, {
          payload: JSON.stringify({ ...r.body, [field]: value }),
          type: 'application/json',
        });
      }
    }
    for (const { r, payload, type } of raw)
      await send(r, `${type} ${payload.slice(0, 20)}`, { payload, type });
    // Hostile ids and tokens where the API takes a payment id.
    for (const bad of [
      'not-a-uuid',
      '00000000-0000-0000-0000-000000000000',
      '%00',
      '..%2F..%2Fusers',
      'x'.repeat(3000),
    ])
      for (const sub of ['', '/cancel', '/refunds'])
        await send(
          {
            token: keyA,
            method: sub === '/cancel' ? 'POST' : 'GET',
            path: `/payments/${bad}${sub}`,
            query: {},
          },
          'id',
          null,
        );
    assert.ok(Date.now() - started < 30_000, `bounded: ${Date.now() - started} ms`);
    assert.deepEqual(failures, []);
  });
});
