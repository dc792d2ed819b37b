// test-seconds: 40
// Payments in the console, in real Chromium against a real platform and sandbox provider: four
// payments made through the API with a test key and paid (or not) on the provider's card page,
// then a department admin, on a phone-sized screen, sees the figures counted by hand, finds a
// payment by its state, refunds part of it with a double click (one refund, audited), is refused
// a second refund over the rest with the API's own message, reads it all in Traditional Chinese,
// and downloads the period's CSV and the reconciliation's. A viewer of another department sees
// none of it. Every page passes axe in both languages.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  payOnCardPage,
  type RunningSandbox,
  startSandbox,
} from '../../src/payments/sandbox/sandbox.testing.ts';
import { freePort } from '../../src/test-support/free-port.ts';
import {
  assertNoSidewaysScroll,
  CHROMIUM,
  type ConsoleRig,
  checkA11y,
  newPage,
  signIn,
  startConsoleRig,
} from './browser-helpers.ts';
import { apiClient } from './runtime-helpers.ts';

const DEPT = 'PAY';
const OTHER = 'OTP';
const PASSWORD = 'payments console password';
const ADMIN = 'pay.admin';
const VIEWER = 'otp.viewer';

/** A request to the platform as the payment host's router forwards it (Host: pay.localhost). */
function onPayHost(
  base: string,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; location: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method, path, headers: { host: 'pay.localhost' }, timeout: 15_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

describe('payments in the console', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let rig: ConsoleRig;
  let sandbox: RunningSandbox;
  let captured = '';

  before(async () => {
    const sandboxPort = await freePort();
    const [s, r] = await Promise.allSettled([
      startSandbox({ port: sandboxPort }),
      startConsoleRig('console-payments-e2e', {
        GOVHOST_PAYMENTS_SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
      }),
    ]);
    if (s.status === 'fulfilled') sandbox = s.value;
    if (r.status === 'fulfilled') rig = r.value;
    if (s.status === 'rejected') throw s.reason;
    if (r.status === 'rejected') throw r.reason;
    const call = async (path: string, body: unknown) => {
      const res = await rig.api('POST', path, body);
      assert.equal(res.status, 201, `${path}: ${JSON.stringify(res.json)}`);
      return res.json;
    };
    await call('/departments', { code: DEPT, nameEn: 'Payments Test', nameZh: '付款測試' });
    await call('/departments', { code: OTHER, nameEn: 'Other', nameZh: '其他' });
    await call('/services', {
      department: DEPT,
      slug: 'fees',
      nameEn: 'Fees',
      nameZh: '費用',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    });
    await call('/users', {
      username: ADMIN,
      displayName: 'Admin',
      role: 'dept-admin',
      department: DEPT,
      password: PASSWORD,
    });
    await call('/users', {
      username: VIEWER,
      displayName: 'Viewer',
      role: 'dept-viewer',
      department: OTHER,
      password: PASSWORD,
    });
    // The department's admin makes the service's test key with a token of its own.
    const token = (await call('/tokens', { name: 'keys', user: ADMIN })).secret;
    const key = (
      await apiClient(rig.url, token)('POST', `/services/${DEPT}/fees/payment-keys`, { name: 'web' })
    ).json.secret as string;
    // Two paid with 4242… (HK$450 and HK$120), one declined (HK$99), one never paid (HK$50).
    const pay = async (amount: number, reference: string, card: string | null) => {
      const made = await fetch(`${rig.url}/api/v1/payments`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': reference,
        },
        body: JSON.stringify({
          amount,
          reference,
          description: 'Licence fee',
          returnUrl: `http://fees.${DEPT.toLowerCase()}.localhost/done`,
        }),
      });
      const p = (await made.json()) as { id: string };
      assert.equal(made.status, 201, JSON.stringify(p));
      if (card === null) return p.id;
      const go = await onPayHost(rig.url, 'POST', `/pay/${p.id}/continue`);
      assert.equal(go.status, 303);
      assert.equal((await payOnCardPage(go.location, card)).status, 303);
      assert.equal((await onPayHost(rig.url, 'GET', `/pay/${p.id}/back`)).status, 303);
      return p.id;
    };
    captured = await pay(45_000, 'FEE-1', '4242424242424242');
    await pay(12_000, 'FEE-2', '4242424242424242');
    await pay(9_900, 'FEE-3', '4000000000000002');
    await pay(5_000, 'FEE-4', null);
  });
  after(async () => {
    await rig?.stop();
    await sandbox?.stop();
  });

  it('a department admin on a phone: the figures, a payment, a partial refund once, a refusal, both languages, the CSVs', async () => {
    const page = await newPage(rig.browser, 390);
    await signIn(page, rig.url, ADMIN, PASSWORD);
    await page.getByRole('link', { name: 'Payments', exact: true }).click();
    await page.getByRole('heading', { name: 'Payments', exact: true }).waitFor();
    const figure = (name: string) =>
      page.locator(`[data-testid="payment-totals"] [data-figure="${name}"] dd`);
    await figure('payments').getByText('4', { exact: true }).waitFor();
    assert.equal(await figure('succeeded').textContent(), '2');
    assert.equal(await figure('successRate').textContent(), '67 %', '2 of the 3 that ended');
    assert.equal(await figure('captured').textContent(), 'HK$570.00');
    assert.equal(await figure('refunds').textContent(), '0');
    // The day's chart, described in words (its busiest day is the one they were made on).
    assert.match(
      (await page.locator('figure[data-chart="payments"] svg[role="img"]').getAttribute('aria-label')) ?? '',
      /Payments: latest \S+, highest 4\.00; Successful: latest \S+, highest 2\.00; Refunds:/,
    );
    await assertNoSidewaysScroll(page);
    await checkA11y(page, 'payments summary');

    await page.getByRole('link', { name: `${DEPT}/fees` }).click();
    await page.getByRole('heading', { name: `Payments of ${DEPT}/fees` }).waitFor();
    await page.locator('tr[data-payment="FEE-4"]').waitFor();
    assert.equal(await page.locator('tr[data-payment]').count(), 4);
    await page.getByLabel('State').selectOption('success');
    await page.getByRole('button', { name: 'Search' }).click();
    // The old list goes while the new one loads: wait for the new one before counting.
    await page.locator('tr[data-payment="FEE-3"]').waitFor({ state: 'detached' });
    await page.locator('tr[data-payment="FEE-2"]').waitFor();
    assert.equal(await page.locator('tr[data-payment]').count(), 2);
    await checkA11y(page, 'payments of a service');
    await page.getByRole('link', { name: 'FEE-1' }).click();

    await page.getByRole('heading', { name: 'Payment FEE-1' }).waitFor();
    await page.getByRole('cell', { name: 'captured' }).waitFor();
    await checkA11y(page, 'a payment');
    // A double click sends the same Idempotency-Key twice at most: one refund.
    await page.getByLabel('Amount to refund (HK$)').fill('100');
    await page.getByRole('button', { name: 'Refund', exact: true }).dblclick();
    await page.getByText('Refunded HK$100.00.').waitFor();
    await page.locator('[data-figure="refundable"] dd').getByText('HK$350.00').waitFor();
    assert.equal(await page.getByTestId('refunds').locator('tr').count(), 1);
    await page.getByLabel('Amount to refund (HK$)').fill('350.01');
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    await page.getByRole('status').getByText('35000 cents are left to refund').waitFor();
    assert.equal(await page.getByTestId('refunds').locator('tr').count(), 1);
    await assertNoSidewaysScroll(page);
    const audit = await rig.api('GET', '/audit?action=payment.refund');
    assert.deepEqual(
      audit.json.items.map((x: { actor: string; targetId: string }) => [x.actor, x.targetId]),
      [[ADMIN, captured]],
    );

    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.getByRole('heading', { name: '付款 FEE-1' }).waitFor();
    await page.getByRole('button', { name: '退款', exact: true }).waitFor();
    await checkA11y(page, 'a payment in Chinese');
    await page.getByRole('link', { name: '付款', exact: true }).click();
    await figure('refunds').getByText('1', { exact: true }).waitFor();
    assert.equal(await figure('refunded').textContent(), 'HK$100.00');
    await checkA11y(page, 'payments summary in Chinese');

    const href = await page.getByRole('link', { name: '付款及退款（CSV）' }).getAttribute('href');
    const csv = await page.request.get(new URL(href ?? '', rig.url).toString());
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-disposition'] ?? '', new RegExp(`payments-${DEPT}-`));
    const lines = (await csv.text()).split('\r\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 6, 'a header, four payments and one refund');
    const refund = lines.find((l) => l.startsWith('refund,'))?.split(',');
    assert.deepEqual(
      [refund?.[1], refund?.[2], refund?.[4], refund?.[6], refund?.[7], refund?.[8]],
      [DEPT, 'fees', captured, 'FEE-1', 'success', '10000'],
    );
    const reconHref = await page.getByRole('link', { name: '與支付服務商對賬（CSV）' }).getAttribute('href');
    const recon = await page.request.get(new URL(reconHref ?? '', rig.url).toString());
    assert.equal(recon.status(), 200);
    assert.match(await recon.text(), /^day,department,service,kind,/);
    await page.context().close();
  });

  it('a viewer of another department sees none of it', async () => {
    const page = await newPage(rig.browser);
    await signIn(page, rig.url, VIEWER, PASSWORD);
    await page.getByRole('link', { name: 'Payments', exact: true }).click();
    await page.getByText('No payments in this period.').waitFor();
    assert.equal(await page.locator('[data-figure="payments"] dd').textContent(), '0');
    assert.equal(await page.getByRole('link', { name: `${DEPT}/fees` }).count(), 0);
    for (const path of [
      `/api/v1/payment-summary?department=${DEPT}`,
      `/api/v1/payment-report?department=${DEPT}`,
      `/api/v1/services/${DEPT}/fees/payments/${captured}`,
    ])
      assert.equal((await page.request.get(`${rig.url}${path}`)).status(), 404, path);
    await page.goto(`${rig.url}/payments/${DEPT}/fees/${captured}`);
    await page
      .getByRole('alert')
      .getByText(/GOVHOST_DEPARTMENT_NOT_FOUND|GOVHOST_SERVICE_NOT_FOUND/)
      .waitFor();
    assert.equal(await page.getByText('FEE-1').count(), 0);
    await checkA11y(page, 'another department’s payment');
    await page.context().close();
  });
});
