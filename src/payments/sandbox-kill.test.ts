// kill -9 of the sandbox provider (a real process) while payments are in flight: a payment the
// citizen paid just before, a capture just made, a refund asked while it is down. After its
// restart on the same journal nothing is lost or doubled: the reconciliation job settles the
// stuck ones, the provider's settlement report lists each capture and refund once, and every
// payment's ledger postings sum to zero.
// test-seconds: 30
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { stopProcess } from '../test-support/server-process.ts';
import { refundPayment } from './payment.logic.ts';
import { feesService } from './payments.testing.ts';
import { httpProvider, type PaymentProvider, ProviderUnavailable } from './provider.ts';
import { startAtProvider, syncWithProvider } from './provider-flow.ts';
import { RECONCILE_GRACE_MS, reconcilePayments } from './reconcile.job.ts';
import { ledgerFaults } from './reconcile.repository.ts';
import { payOnCardPage, type RunningSandbox, startSandbox } from './sandbox/sandbox.testing.ts';

const ANY = { departmentId: null };
const later = () => new Date(Date.now() + RECONCILE_GRACE_MS + 1000);

describe('kill -9 of the sandbox provider', () => {
  let t: TestApp;
  let sandbox: RunningSandbox;
  let key: string;
  let n = 0;
  // The service's own host: a return URL anywhere else is refused (422).
  let returnUrl = '';
  // The platform's provider setting points at wherever the sandbox listens now.
  const current = () => httpProvider(sandbox.url, 2_000);
  const provider: PaymentProvider = {
    name: 'sandbox',
    start: (p) => current().start(p),
    status: (ref) => current().status(ref),
    cancel: (ref) => current().cancel(ref),
    refund: (p) => current().refund(p),
    settlement: (day) => current().settlement(day),
  };
  const create = async (amount: number) => {
    const res = await t.request(key, {
      method: 'POST',
      url: '/api/v1/payments',
      headers: { 'idempotency-key': `k-${++n}` },
      payload: { amount, reference: `K-${n}`, description: 'Fee', returnUrl },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id as string;
  };
  const row = (id: string) =>
    t.db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const postings = async (id: string, kind: 'capture' | 'refund') =>
    (
      await t.db
        .selectFrom('ledger_postings')
        .select('id')
        .where('payment_id', '=', id)
        .where('kind', '=', kind)
        .execute()
    ).length;

  before(async () => {
    sandbox = await startSandbox();
    t = await testApp({ paymentsSandboxUrl: sandbox.url });
    ({ key, returnUrl } = await feesService(t, 'KS'));
  });
  after(async () => {
    await t?.close();
    await sandbox?.stop();
  });

  it('nothing is lost or doubled; reconciliation settles what was stuck', async () => {
    const firstDay = new Date().toISOString().slice(0, 10);
    // Paid on the card page, not yet read back by the platform.
    const paid = await create(12_000);
    const opened = await startAtProvider(t.db, provider, ANY, paid);
    assert.equal((await payOnCardPage(opened.redirectUrl, '4242424242424242')).status, 303);
    // Captured and read back just before the kill.
    const captured = await create(8_000);
    const o2 = await startAtProvider(t.db, provider, ANY, captured);
    assert.equal((await payOnCardPage(o2.redirectUrl, '4242424242424242')).status, 303);
    assert.equal((await syncWithProvider(t.db, provider, ANY, captured))?.state, 'success');

    await stopProcess(sandbox.proc, 'SIGKILL');
    await assert.rejects(syncWithProvider(t.db, provider, ANY, paid), ProviderUnavailable);
    // Finance reconciling a day meanwhile is told the provider is away (it was a 500).
    const finance = (await t.user('finance')).token;
    const day = await t.request(finance, {
      method: 'POST',
      url: '/api/v1/payment-reconciliations',
      payload: { day: firstDay },
    });
    assert.equal(day.statusCode, 503, day.body);
    assert.equal(day.json().code, 'GOVHOST_PAYMENT_PROVIDER_UNAVAILABLE');
    const r = await row(captured);
    const k = {
      keyId: 'test',
      departmentId: r.department_id,
      serviceId: r.service_id,
      mode: 'test' as const,
    };
    const refund = await refundPayment(t.db, provider, k, captured, 3_000, `rf-${n}`);
    assert.equal(refund.refund.state, 'submitted', 'the provider is down: the refund waits');
    const blind = await reconcilePayments({ db: t.db, provider }, later());
    assert.equal(blind.unreachable, 2);
    assert.equal((await row(paid)).state, 'started');

    sandbox = await sandbox.restart();
    const round = await reconcilePayments({ db: t.db, provider }, later());
    assert.equal(round.calls.refund, 1);
    assert.equal((await row(paid)).state, 'success');
    await reconcilePayments({ db: t.db, provider }, later());
    assert.equal(await postings(paid, 'capture'), 1);
    assert.equal(await postings(captured, 'capture'), 1);
    assert.equal(await postings(captured, 'refund'), 1);
    assert.equal(Number((await row(captured)).refunded), 3_000);
    // Both days' reports, should the day have turned during the test.
    const days = [...new Set([firstDay, new Date().toISOString().slice(0, 10)])];
    const items = (await Promise.all(days.map((d) => provider.settlement(d)))).flatMap((r) => r.items);
    const mine = items.filter((i) => i.paymentId === paid || i.paymentId === captured);
    assert.deepEqual(
      mine.map((i) => `${i.type} ${i.amount}`).sort(),
      ['capture 12000', 'capture 8000', 'refund 3000'],
      'the restarted provider remembers each capture and refund once',
    );
    assert.deepEqual(await ledgerFaults(t.db), []);
  });
});
