// test-seconds: 60
// The hosted payment page in real Chromium (decision 043), on one platform with the sandbox
// provider: the example licence-renewal service (examples/apps/licence-renewal), deployed and
// reached through the router, creates a payment; the citizen, on a phone-sized screen, pays on the
// hosted page at pay.localhost with the test card 4242…, comes back through the single-use return
// link and the service shows `success`, and records the renewal paid from the platform's signed
// webhook (a forged one gets 401); a declined card (on the Chinese page) and a cancelled
// payment too; axe finds nothing serious on the page in either language; the return link used a
// second time is refused.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { type RunningSandbox, startSandbox } from '../../src/payments/sandbox/sandbox.testing.ts';
import { freePort } from '../../src/test-support/free-port.ts';
import {
  assertNoSidewaysScroll,
  type ConsoleRig,
  checkA11y,
  newPage,
  startConsoleRig,
} from './browser-helpers.ts';
import { apiClient, deployDir, untilServed, viaRouter } from './runtime-helpers.ts';

const APP = fileURLToPath(new URL('../../examples/apps/licence-renewal', import.meta.url));

describe('hosted payment page in Chromium', () => {
  let rig: ConsoleRig;
  let sandbox: RunningSandbox;
  let home: string;
  let routerUrl: string;
  let webhookSecret: string;

  before(async () => {
    const [routerPort, sandboxPort] = [await freePort(), await freePort()];
    // Side by side: the platform needs only the sandbox's address, not the sandbox, to start.
    const [s, r] = await Promise.allSettled([
      startSandbox({ port: sandboxPort }),
      startConsoleRig('payments', {
        GOVHOST_ROUTER_PORT: String(routerPort),
        GOVHOST_PAYMENTS_SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
      }),
    ]);
    if (s.status === 'fulfilled') sandbox = s.value;
    if (r.status === 'fulfilled') rig = r.value;
    if (s.status === 'rejected') throw s.reason;
    if (r.status === 'rejected') throw r.reason;
    const { api } = rig;
    assert.equal(
      (await api('POST', '/departments', { code: 'DLA', nameEn: 'Licensing', nameZh: '發牌' })).status,
      201,
    );
    const svc = await api('POST', '/services', {
      department: 'DLA',
      slug: 'renew',
      nameEn: 'Licence renewal',
      nameZh: '牌照續期',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    });
    assert.equal(svc.status, 201, JSON.stringify(svc.json));
    // Payment keys are the department's developers' and admins' to make, not the operators'.
    const dev = { username: 'dla-dev', displayName: 'Dev', role: 'dept-developer', department: 'DLA' };
    assert.equal((await api('POST', '/users', dev)).status, 201);
    const devToken = (await api('POST', '/tokens', { name: 't', user: 'dla-dev' })).json.secret;
    const key = await apiClient(rig.url, devToken)('POST', '/services/DLA/renew/payment-keys', {
      name: 'web',
    });
    assert.equal(key.status, 201, JSON.stringify(key.json));
    // Its webhook, on its own host, reached through the router; the secret goes to the app.
    const hook = await apiClient(rig.url, devToken)('PUT', '/services/DLA/renew/payment-webhook', {
      url: `http://renew.dla.localhost:${routerPort}/webhooks/payments`,
    });
    assert.equal(hook.status, 200, JSON.stringify(hook.json));
    webhookSecret = hook.json.secret;
    const env = await api('PATCH', '/services/DLA/renew/env', {
      set: {
        PAYMENTS_WEBHOOK_SECRET: webhookSecret,
        PAYMENTS_KEY: key.json.secret,
        PAYMENTS_API: `http://127.0.0.1:${routerPort}`,
        PAYMENTS_HOST: 'pay.localhost',
      },
    });
    assert.equal(env.status, 200, JSON.stringify(env.json));
    const { deployment } = await deployDir(rig.url, api, rig.token, 'DLA/renew', APP);
    assert.equal(deployment.state, 'succeeded', JSON.stringify(deployment));
    home = `http://renew.dla.localhost:${routerPort}`;
    routerUrl = `http://127.0.0.1:${routerPort}`;
  });
  after(async () => {
    await rig?.stop();
    await sandbox?.stop();
  });

  /** The citizen renews on the service and arrives at the hosted page. */
  async function renew(page: Page, licence: string, language: 'en' | 'zh-Hant') {
    await page.goto(`${home}/`);
    await page.getByLabel('Licence number').fill(licence);
    await page.getByLabel('Language of the payment page').selectOption(language);
    await page.getByRole('button', { name: 'Renew and pay' }).click();
    await page.waitForURL(/^http:\/\/pay\.localhost:\d+\/pay\/[0-9a-f-]{36}$/);
  }

  /** On the sandbox's card page: pays with `card`, or cancels; then back through the return link. */
  async function atProvider(page: Page, card: string | null): Promise<string> {
    const links: string[] = [];
    page.on('request', (r) => {
      if (/\/pay\/return\//.test(r.url())) links.push(r.url());
    });
    await page.waitForURL(`${sandbox.url}/pay/**`);
    if (card === null) await page.locator('button[value=cancel]').click();
    else {
      await page.locator('#card').fill(card);
      await page.locator('button[value=pay]').click();
    }
    await page.waitForURL(`${home}/done?**`);
    assert.equal(links.length, 1, `one return link: ${links.join()}`);
    return links[0] as string;
  }

  it('pays with 4242…, returns to the service, which sees success and gets the signed webhook; the return link works once', async () => {
    const page = await newPage(rig.browser, 390);
    await renew(page, 'DL-1001', 'en');
    await page.getByRole('heading', { name: 'Pay for Licence renewal' }).waitFor();
    assert.match(await page.locator('main').innerText(), /HK\$450\.00/);
    assert.match(await page.locator('main').innerText(), /Renewal of licence DL-1001/);
    await assertNoSidewaysScroll(page);
    await checkA11y(page, 'hosted page (en)');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    const link = await atProvider(page, '4242 4242 4242 4242');
    assert.equal(await page.locator('#state').innerText(), 'success');
    // The platform's signed webhook reaches the service through the router, which records the
    // renewal as paid from it (it may arrive a moment after the citizen).
    const done = new URL(page.url());
    await untilServed(
      routerUrl,
      'renew.dla.localhost',
      (r) => r.body.includes('paid (confirmed'),
      20_000,
      `${done.pathname}${done.search}`,
    );
    await page.reload();
    assert.equal(await page.locator('#renewal').textContent(), 'paid (confirmed by the signed webhook)');
    const again = await page.goto(link);
    assert.equal(again?.status(), 410);
    await page.getByRole('heading', { name: 'This link has already been used' }).waitFor();
    await page.context().close();
  });

  it('the service refuses a forged webhook: unsigned, wrongly signed, or signed too long ago', async () => {
    const body = JSON.stringify({ id: 'forged-1', type: 'payment.success', payment: { reference: 'REN-X' } });
    const now = Math.floor(Date.now() / 1000);
    const sign = (secret: string, ts: number) =>
      `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    for (const headers of [
      {} as Record<string, string>,
      { 'x-govhost-timestamp': String(now), 'x-govhost-signature': sign('whsec_guessed', now) },
      { 'x-govhost-timestamp': String(now - 600), 'x-govhost-signature': sign(webhookSecret, now - 600) },
    ]) {
      const r = await viaRouter(routerUrl, 'renew.dla.localhost', '/webhooks/payments', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      assert.equal(r.status, 401, JSON.stringify(headers));
    }
  });

  it('a declined card on the Chinese page: the service sees failed', async () => {
    const page = await newPage(rig.browser, 390);
    await renew(page, 'DL-1002', 'zh-Hant');
    await page.getByRole('heading', { name: '繳付牌照續期費用' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-Hant');
    await assertNoSidewaysScroll(page);
    await checkA11y(page, 'hosted page (zh-Hant)');
    await page.getByRole('button', { name: '繼續付款' }).click();
    await atProvider(page, '4000 0000 0000 0002');
    assert.equal(await page.locator('#state').innerText(), 'failed');
    await page.context().close();
  });

  it('a payment cancelled on the provider page: the service sees cancelled', async () => {
    const page = await newPage(rig.browser, 1280);
    await renew(page, 'DL-1003', 'en');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await atProvider(page, null);
    assert.equal(await page.locator('#state').innerText(), 'cancelled');
    await page.context().close();
  });
});
