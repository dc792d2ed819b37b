// The payments' reconciliation job on a real store and a real sandbox process: it settles what a
// request left behind (a start whose answer was never stored, a refund whose answer was lost or
// never sent, an outcome known only later), leaves calls still in flight alone, waits when the
// provider is unreachable, and two rounds at once settle everything exactly once.
// test-seconds: 30
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import type { ServiceKey } from './keys.logic.ts';
import { refundPayment } from './payment.logic.ts';
import { feesService } from './payments.testing.ts';
import { httpProvider, type PaymentProvider, ProviderUnavailable } from './provider.ts';
import { startAtProvider, syncWithProvider } from './provider-flow.ts';
import { RECONCILE_GRACE_MS, reconcilePayments } from './reconcile.job.ts';
import { ledgerFaults } from './reconcile.repository.ts';
import { payOnCardPage, type RunningSandbox, startSandbox } from './sandbox/sandbox.testing.ts';

const ANY = { departmentId: null };
const LATE_MS = 1500;
/** Past every call's grace: what a round sees once the requests are long gone. */
const later = () => new Date(Date.now() + RECONCILE_GRACE_MS + 1000);

describe('payments reconciliation', () => {
  let t: TestApp;
  let sandbox: RunningSandbox;
  let provider: PaymentProvider;
  let key: string;
  let n = 0;
  // The service's own host: a return URL anywhere else is refused (422).
  let returnUrl = '';

  const create = async (amount: number) => {
    const res = await t.request(key, {
      method: 'POST',
      url: '/api/v1/payments',
      headers: { 'idempotency-key': `r-${++n}` },
      payload: { amount, reference: `R-${n}`, description: 'Fee', returnUrl },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id as string;
  };
  const stateOf = async (id: string) =>
    (
      await t.db
        .selectFrom('payments')
        .select(['state', 'refunded'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).state;
  const serviceKey = async (id: string): Promise<ServiceKey> => {
    const p = await t.db
      .selectFrom('payments')
      .select(['department_id', 'service_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return { keyId: 'test', departmentId: p.department_id, serviceId: p.service_id, mode: 'test' };
  };
  const postings = async (id: string, kind: 'capture' | 'refund') =>
    (
      await t.db
        .selectFrom('ledger_postings')
        .select('id')
        .where('payment_id', '=', id)
        .where('kind', '=', kind)
        .execute()
    ).length;
  const pendingCalls = async () =>
    (await t.db.selectFrom('provider_calls').select('id').where('state', '=', 'pending').execute()).length;
  const captured = async (amount: number) => {
    const id = await create(amount);
    const { redirectUrl } = await startAtProvider(t.db, provider, ANY, id);
    assert.equal((await payOnCardPage(redirectUrl, '4242424242424242')).status, 303);
    await syncWithProvider(t.db, provider, ANY, id);
    assert.equal(await stateOf(id), 'success');
    return id;
  };

  before(async () => {
    sandbox = await startSandbox({ lateMs: LATE_MS });
    provider = httpProvider(sandbox.url);
    t = await testApp({ paymentsSandboxUrl: sandbox.url });
    ({ key, returnUrl } = await feesService(t, 'RC'));
  });
  after(async () => {
    await t?.close();
    await sandbox?.stop();
  });

  it('a start whose answer was never stored: finished, moved along, captured once', async () => {
    const id = await create(4_000);
    let redirect = '';
    // The provider opens the payment, but the platform stops before storing its answer.
    const crashing: PaymentProvider = {
      ...provider,
      start: async (p) => {
        redirect = (await provider.start(p)).redirectUrl;
        throw new Error('the platform stopped here');
      },
    };
    await assert.rejects(startAtProvider(t.db, crashing, ANY, id), /stopped here/);
    assert.equal(await stateOf(id), 'created');
    assert.equal((await payOnCardPage(redirect, '4242424242424242')).status, 303);

    const young = await reconcilePayments({ db: t.db, provider });
    assert.equal(young.calls.authorise, 0, 'a call within its grace may still be answered by its request');
    assert.equal(await stateOf(id), 'created');

    const round = await reconcilePayments({ db: t.db, provider }, later());
    assert.equal(round.calls.authorise, 1);
    assert.equal(await stateOf(id), 'success');
    assert.equal(await postings(id, 'capture'), 1);
    const again = await reconcilePayments({ db: t.db, provider }, later());
    assert.deepEqual(again.calls, { authorise: 0, refund: 0 });
    assert.equal(await postings(id, 'capture'), 1, 'a repeated round changes nothing');
  });

  it('an outcome known only later (card …0259) is settled by a later round', async () => {
    const id = await create(2_500);
    const { redirectUrl } = await startAtProvider(t.db, provider, ANY, id);
    assert.equal((await payOnCardPage(redirectUrl, '4000000000000259')).status, 303);
    assert.equal(await syncWithProvider(t.db, provider, ANY, id), null, 'pending at first');
    assert.equal(await stateOf(id), 'started');
    // A bounded poll: rounds until the sandbox's late outcome is due (LATE_MS), at most 30 s.
    const deadline = Date.now() + 30_000;
    while ((await stateOf(id)) !== 'success' && Date.now() < deadline)
      await reconcilePayments({ db: t.db, provider }, later());
    assert.equal(await stateOf(id), 'success');
    assert.equal(await postings(id, 'capture'), 1);
  });

  it('refunds left submitted (answer lost, provider unreachable) are settled once', async () => {
    const id = await captured(9_000);
    const k = await serviceKey(id);
    // The provider takes the refund but its answer is lost on the way back.
    const lost: PaymentProvider = {
      ...provider,
      refund: async (p) => {
        await provider.refund(p);
        throw new ProviderUnavailable('the answer was lost');
      },
    };
    // The provider cannot be reached at all.
    const down: PaymentProvider = {
      ...provider,
      refund: async () => {
        throw new ProviderUnavailable('no route to the provider');
      },
    };
    const r1 = await refundPayment(t.db, lost, k, id, 3_000, `rf-${id}-1`);
    const r2 = await refundPayment(t.db, down, k, id, 2_000, `rf-${id}-2`);
    assert.equal(r1.refund.state, 'submitted');
    assert.equal(r2.refund.state, 'submitted');
    assert.equal(await pendingCalls(), 2);

    const nowhere = httpProvider('http://127.0.0.1:1', 2_000);
    const blind = await reconcilePayments({ db: t.db, provider: nowhere }, later());
    assert.equal(blind.unreachable, 2, 'an unreachable provider leaves both for the next round');
    assert.equal(await pendingCalls(), 2);

    const round = await reconcilePayments({ db: t.db, provider }, later());
    assert.equal(round.calls.refund, 2);
    assert.equal(await pendingCalls(), 0);
    assert.equal(await postings(id, 'refund'), 2);
    const row = await t.db
      .selectFrom('payments')
      .select('refunded')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(Number(row.refunded), 5_000);
    // The sandbox took each refund once: 4 000 cents are left there, and not a cent more.
    const rest = await refundPayment(t.db, provider, k, id, 4_000, `rf-${id}-3`);
    assert.equal(rest.refund.state, 'success');
    await assert.rejects(refundPayment(t.db, provider, k, id, 1, `rf-${id}-4`), /left to refund/);
  });

  it('two rounds at once (two platform processes) settle each payment and refund exactly once', async () => {
    const starts: string[] = [];
    const crashing: PaymentProvider = {
      ...provider,
      start: async (p) => {
        const opened = await provider.start(p);
        await payOnCardPage(opened.redirectUrl, '4242424242424242');
        throw new Error('the platform stopped here');
      },
    };
    for (let i = 0; i < 4; i++) {
      const id = await create(1_000 + i);
      await assert.rejects(startAtProvider(t.db, crashing, ANY, id));
      starts.push(id);
    }
    const paid = await captured(6_000);
    const down: PaymentProvider = {
      ...provider,
      refund: async () => {
        throw new ProviderUnavailable('no route to the provider');
      },
    };
    await refundPayment(t.db, down, await serviceKey(paid), paid, 6_000, `rf-${paid}-all`);

    const now = later();
    const rounds = await Promise.all([
      reconcilePayments({ db: t.db, provider }, now),
      reconcilePayments({ db: t.db, provider }, now),
    ]);
    // Whichever round got there first: a second pass has nothing left to do either.
    await reconcilePayments({ db: t.db, provider }, now);
    assert.equal(rounds[0].calls.refund + rounds[1].calls.refund >= 1, true);
    for (const id of starts) {
      assert.equal(await stateOf(id), 'success');
      assert.equal(await postings(id, 'capture'), 1);
    }
    assert.equal(await postings(paid, 'refund'), 1);
    assert.equal(await pendingCalls(), 0);
    assert.deepEqual(await ledgerFaults(t.db), [], 'every payment balances and is posted once');
  });
});
