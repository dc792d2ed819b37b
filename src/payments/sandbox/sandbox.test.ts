// The sandbox provider as its own process (`govhost payments sandbox`), through the platform's
// HTTP adapter: each documented test card gives its outcome (one only later), the card page is
// the sandbox's own (bilingual, escaped) and sends the citizen back to the return URL, refunds
// never exceed the capture and repeat safely by refund id, and a kill -9 loses nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '../../test-support/until.ts';
import { httpProvider, type PaymentProvider } from '../provider.ts';
import { payOnCardPage, type RunningSandbox, startSandbox } from './sandbox.testing.ts';
import { TEST_CARDS } from './test-cards.ts';

describe('the sandbox provider', () => {
  let sandbox: RunningSandbox;
  let provider: PaymentProvider;
  let n = 0;
  const open = (over: Record<string, unknown> = {}) =>
    provider.start({
      paymentId: `p-${++n}`,
      amount: 1_000,
      description: 'Licence <renewal>',
      language: 'en',
      returnUrl: 'https://licences.example.gov.hk/done',
      ...over,
    });

  before(async () => {
    sandbox = await startSandbox({ lateMs: 300 });
    provider = httpProvider(sandbox.url);
  });
  after(() => sandbox?.stop());

  it('documents four test cards', () => {
    assert.deepEqual(Object.values(TEST_CARDS).sort(), ['captured', 'declined', 'error', 'late']);
  });

  it('a start is idempotent by payment id; the card page is its own, escaped, in the payment’s language', async () => {
    const first = await provider.start({
      paymentId: 'same',
      amount: 100,
      description: '<script>x</script>',
      language: 'zh-Hant',
      returnUrl: 'https://a.example/',
    });
    const again = await provider.start({
      paymentId: 'same',
      amount: 100,
      description: '<script>x</script>',
      language: 'zh-Hant',
      returnUrl: 'https://a.example/',
    });
    assert.equal(again.providerRef, first.providerRef);
    const page = await (await fetch(first.redirectUrl)).text();
    assert.match(page, /<html lang="zh-Hant">/);
    assert.match(page, /&lt;script&gt;x&lt;\/script&gt;/);
    assert.ok(!page.includes('<script>'));
    assert.match(page, /HK\$1\.00/);
    assert.equal((await provider.status(first.providerRef)).outcome, 'pending');
  });

  it('each test card gives its outcome and sends the citizen back to the return URL', async () => {
    const expected = {
      '4242 4242 4242 4242': 'captured',
      '4000000000000002': 'declined',
      '4000000000000119': 'error',
      '5555555555554444': 'declined',
    } as const;
    for (const [card, outcome] of Object.entries(expected)) {
      const p = await open();
      const res = await payOnCardPage(p.redirectUrl, card);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), 'https://licences.example.gov.hk/done');
      assert.equal((await provider.status(p.providerRef)).outcome, outcome, card);
      await payOnCardPage(p.redirectUrl, '4242424242424242');
      assert.equal((await provider.status(p.providerRef)).outcome, outcome, 'only the first answer counts');
    }
    const cancelled = await open();
    await payOnCardPage(cancelled.redirectUrl, null);
    assert.equal((await provider.status(cancelled.providerRef)).outcome, 'cancelled');
  });

  it('the late card is pending first and captured later', async () => {
    const p = await open();
    await payOnCardPage(p.redirectUrl, '4000000000000259');
    assert.equal((await provider.status(p.providerRef)).outcome, 'pending');
    await until(
      'the late payment to settle',
      async () => (await provider.status(p.providerRef)).outcome === 'captured',
    );
  });

  it('refunds: within the capture, once per refund id; refused when not captured', async () => {
    const p = await open();
    assert.equal(
      (await provider.refund({ providerRef: p.providerRef, refundId: 'r0', amount: 1 })).outcome,
      'error',
    );
    await payOnCardPage(p.redirectUrl, '4242424242424242');
    const r1 = { providerRef: p.providerRef, refundId: 'r1', amount: 600 };
    assert.equal((await provider.refund(r1)).outcome, 'success');
    assert.equal((await provider.refund(r1)).outcome, 'success', 'the same refund again is the same refund');
    assert.equal((await provider.refund({ ...r1, refundId: 'r2', amount: 500 })).outcome, 'error');
    assert.equal((await provider.refund({ ...r1, refundId: 'r3', amount: 400 })).outcome, 'success');
  });

  it('kill -9 and a restart on the same journal lose nothing', async () => {
    const p = await open();
    await payOnCardPage(p.redirectUrl, '4242424242424242');
    await provider.refund({ providerRef: p.providerRef, refundId: 'k1', amount: 1_000 });
    sandbox.proc.child.kill('SIGKILL');
    await sandbox.proc.closed;
    sandbox = await sandbox.restart();
    provider = httpProvider(sandbox.url);
    assert.equal((await provider.status(p.providerRef)).outcome, 'captured');
    assert.equal(
      (await provider.refund({ providerRef: p.providerRef, refundId: 'k2', amount: 1 })).outcome,
      'error',
    );
  });

  it('refuses malformed calls with 400, and an unreachable sandbox is ProviderUnavailable', async () => {
    const res = await fetch(`${sandbox.url}/v1/payments`, { method: 'POST', body: '{"amount":1.5}' });
    assert.equal(res.status, 400);
    const junk = await fetch(`${sandbox.url}/v1/payments`, { method: 'POST', body: 'not json' });
    assert.equal(junk.status, 400);
    await assert.rejects(httpProvider('http://127.0.0.1:1').status('x'), {
      name: 'Error',
      message: /did not answer/,
    });
  });
});
