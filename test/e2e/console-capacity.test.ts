// test-seconds: 41
// The console's hosting requests and capacity pages in a real browser against the real server:
// a department asks for hosting (one request approved at once, one over quota queued with its
// reason), an operator raises the quota and approves it, the capacity desk shows the local farm
// and a forecast, and a department user reaching the capacity page by URL gets nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertNoSidewaysScroll,
  CHROMIUM,
  type ConsoleRig,
  checkA11y,
  newPage,
  shot,
  signIn as signInAs,
  startConsoleRig,
} from './browser-helpers.ts';

const DEPT = 'CPR';
const PASSWORD = 'capacity console password';
const STAFF = 'cpr.admin';
const OPERATOR = 'duty.officer';
const SCENARIO = 'fast growth';

let rig: ConsoleRig;

const today = () => new Date().toISOString().slice(0, 10);
/** `YYYY-MM` of the month `n` months from now (UTC). */
function monthFromNow(n: number): string {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.toISOString().slice(0, 7);
}

async function call(method: string, path: string, body: unknown, status: number) {
  const res = await rig.api(method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
  return res.json;
}

const signIn = (page: Page, username: string) => signInAs(page, rig.url, username, PASSWORD);

/** Fills the hosting request form and submits it. */
async function askForHosting(
  page: Page,
  r: { slug: string; nameEn: string; nameZh: string; instances: number; goLive: string },
) {
  await page.getByLabel('Short name (part of the address)').fill(r.slug);
  await page.getByLabel('Name in English').fill(r.nameEn);
  await page.getByLabel('Name in Chinese').fill(r.nameZh);
  await page.getByLabel('Number of instances').fill(String(r.instances));
  await page.getByLabel('Memory per instance (MB)').fill('256');
  await page.getByLabel('Planned go-live').fill(r.goLive);
  await page.getByRole('button', { name: 'Submit request' }).click();
}

describe('hosting requests and capacity in the console', {
  skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`,
}, () => {
  before(async () => {
    rig = await startConsoleRig('console-capacity-e2e');
    await call('POST', '/departments', { code: DEPT, nameEn: 'Clinics Department', nameZh: '診所部' }, 201);
    // Three instances: the first request fits, the second (four instances) does not.
    await call('PUT', `/departments/${DEPT}/quota`, { instances: 3 }, 200);
    for (const [username, role, department] of [
      [STAFF, 'dept-admin', DEPT],
      [OPERATOR, 'operator', undefined],
    ] as const) {
      await call(
        'POST',
        '/users',
        { username, displayName: username, role, department, password: PASSWORD },
        201,
      );
    }
  });

  after(async () => {
    await rig?.stop();
  });

  it('department admin: a request inside quota is provisioned at once, one over quota waits with its reason', async () => {
    const page = await newPage(rig.browser);
    await signIn(page, STAFF);
    assert.equal(await page.getByRole('link', { name: 'Capacity' }).count(), 0, 'no capacity entry');
    await page.getByRole('link', { name: 'Hosting requests' }).click();
    await page.getByRole('heading', { name: `Quota and use of ${DEPT}` }).waitFor();
    await page.getByText('0 of 3').waitFor();

    // The API's own message for a refused field is shown under that field.
    await askForHosting(page, {
      slug: 'e-clinic',
      nameEn: 'Clinic booking',
      nameZh: '診所預約',
      instances: 1,
      goLive: '2020-01-01',
    });
    const goLiveError = page.locator('#req-goLive-error');
    await goLiveError.getByText(/is in the past/).waitFor();
    assert.equal(await page.getByLabel('Planned go-live').getAttribute('aria-invalid'), 'true');
    await page.getByText(/^Not submitted: goLive is in the past/).waitFor();

    await page.getByLabel('Planned go-live').fill(today());
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.getByText(`Approved and provisioned at once: ${DEPT}/e-clinic is ready at`).waitFor();
    assert.equal(await goLiveError.count(), 0, 'the field error is gone');
    const approved = page.locator(`tr[data-request="${DEPT}/e-clinic"][data-state="approved"]`);
    await approved.getByText(/^ready in \d/).waitFor();
    await approved.getByText('approved automatically').waitFor();
    await page.getByText('1 of 3').waitFor();
    await page.getByRole('heading', { name: 'Lead time from request to ready' }).waitFor();

    await askForHosting(page, {
      slug: 'big-portal',
      nameEn: 'Big portal',
      nameZh: '大型入門網站',
      instances: 4,
      goLive: `${monthFromNow(2)}-01`,
    });
    await page.getByText(`${DEPT}/big-portal waits for an operator: quota exceeded`).waitFor();
    const queued = page.locator(`tr[data-request="${DEPT}/big-portal"][data-state="pending"]`);
    await queued
      .getByText(/quota exceeded: .* would bring the department to 5 instances; its quota is 3/)
      .waitFor();
    await queued.getByRole('button', { name: `Withdraw ${DEPT}/big-portal` }).waitFor();
    await checkA11y(page, 'hosting requests');
    await shot(page, 'requests');
    await page.context().close();
  });

  it('operator: approval refused while over quota, quota raised, request approved; another rejected with a reason', async () => {
    // One more waiting request, to be rejected.
    const extra = await call(
      'POST',
      '/requests',
      {
        department: DEPT,
        slug: 'huge-archive',
        nameEn: 'Huge archive',
        nameZh: '大型檔案庫',
        origin: 'new',
        channels: ['web'],
        slaTier: 'bronze',
        instances: 50,
        memoryMb: 512,
        goLive: `${monthFromNow(3)}-01`,
      },
      201,
    );
    assert.equal(extra.state, 'pending');

    const page = await newPage(rig.browser);
    await signIn(page, OPERATOR);
    await page.getByRole('link', { name: 'Hosting requests' }).click();
    const queue = page.locator('section', {
      has: page.getByRole('heading', { name: 'Waiting for approval' }),
    });
    await queue.locator(`tr[data-request="${DEPT}/big-portal"]`).waitFor();
    await checkA11y(page, 'approval queue');

    // Still over quota: the API's 409 is shown, and the request keeps waiting.
    await queue.getByRole('button', { name: `Approve ${DEPT}/big-portal` }).click();
    await queue
      .locator('p.error')
      .getByText(/quota exceeded/)
      .waitFor();

    // Raise the quota on the capacity desk.
    await page.getByRole('link', { name: 'Capacity' }).click();
    await page.getByRole('link', { name: 'Quotas' }).click();
    const quotaRow = page.locator(`tr[data-quota="${DEPT}"]`);
    await quotaRow.getByText('1 of 3').waitFor();
    await quotaRow.getByRole('button', { name: `Change ${DEPT}` }).click();
    await page.getByRole('heading', { name: `Set the quota of ${DEPT}` }).waitFor();
    await page.getByLabel('Instances', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Quota of ${DEPT} saved.`).waitFor();
    await quotaRow.getByText('1 of 10').waitFor();
    await checkA11y(page, 'quotas');

    await page.getByRole('link', { name: 'Hosting requests' }).click();
    await queue.getByRole('button', { name: `Approve ${DEPT}/big-portal` }).click();
    await queue.getByText(`${DEPT}/big-portal is provisioned.`).waitFor();
    await queue.locator(`tr[data-request="${DEPT}/big-portal"]`).waitFor({ state: 'detached' });

    await queue.getByRole('button', { name: `Reject ${DEPT}/huge-archive` }).click();
    // The reason field takes the focus, so a keyboard user types straight into it.
    await page.keyboard.type('Not funded this year');
    await queue.getByRole('button', { name: 'Reject the request' }).click();
    await queue.getByText(`${DEPT}/huge-archive is rejected.`).waitFor();
    await page.getByText('No requests are waiting.').waitFor();
    await page
      .locator(`tr[data-request="${DEPT}/huge-archive"][data-state="rejected"]`)
      .getByText(`rejected by ${OPERATOR}: Not funded this year`)
      .waitFor();
    await page.context().close();
  });

  it('capacity: the local farm with sharing figures, and a forecast with planned demand and a scenario', async () => {
    const local = await call('GET', '/farms/local', undefined, 200);
    // Planned demand of twice what the local farm can hold, two months from now: memory runs out.
    const reservable = local.capacity.memoryMb * local.overcommit.memory;
    await call(
      'POST',
      '/capacity/demand',
      {
        kind: 'migration-wave',
        department: DEPT,
        services: 1,
        instancesPerService: 4,
        memoryMbPerInstance: Math.ceil(reservable / 2),
        cpuPerInstance: 1,
        goLive: monthFromNow(2),
        note: 'EGIS wave 1',
      },
      201,
    );
    await call(
      'POST',
      '/capacity/demand',
      { kind: 'growth', growthPctPerMonth: 5, goLive: monthFromNow(0), scenario: SCENARIO },
      201,
    );

    const page = await newPage(rig.browser);
    await signIn(page, OPERATOR);
    await page.getByRole('link', { name: 'Capacity' }).click();
    const farm = page.locator('tr[data-farm="local"]');
    await farm.getByText('active', { exact: true }).waitFor();
    await farm.getByText('this host', { exact: true }).waitFor();
    await page.getByTestId('farms-avoided').waitFor();
    await page.getByRole('cell', { name: DEPT, exact: true }).first().waitFor();
    await checkA11y(page, 'capacity farms');
    await shot(page, 'capacity');

    await page.getByRole('link', { name: 'Forecast' }).click();
    await page
      .locator('figure[data-chart="utilisation"] line[data-reference="80"]')
      .waitFor({ state: 'attached' });
    await page.locator('tr[data-demand="migration-wave"]').getByText('EGIS wave 1').waitFor();
    const runsOut = page.getByTestId('runs-out');
    await runsOut.getByText('Memory runs out').waitFor();
    assert.doesNotMatch(
      (await runsOut.locator('div', { hasText: 'Memory runs out' }).locator('dd').textContent()) ?? '',
      /not within/,
      'memory runs out within the period',
    );
    await page.locator('tr[data-recommendation="1"]').waitFor();
    await checkA11y(page, 'capacity forecast');
    await shot(page, 'capacity-forecast');

    // The scenario picker offers the what-if lines' names.
    await page.getByLabel('Scenario').selectOption(SCENARIO);
    await page.getByRole('button', { name: 'Show forecast' }).click();
    await page.getByRole('heading', { name: `Forecast: ${SCENARIO}` }).waitFor();

    await page.getByRole('link', { name: 'Energy' }).click();
    await page.locator('tr[data-energy-farm="local"]').waitFor();
    await checkA11y(page, 'capacity energy');
    await page.context().close();
  });

  it('department admin: sees the approved request provisioned; the capacity page by URL shows nothing; phone width and Chinese', async () => {
    const page = await newPage(rig.browser, 375);
    const capacityCalls: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/v1\/(farms|capacity)/.test(r.url())) capacityCalls.push(r.url());
    });
    await signIn(page, STAFF);
    await page.goto(`${rig.url}/requests`);
    const row = page.locator(`tr[data-request="${DEPT}/big-portal"][data-state="approved"]`);
    await row.getByText(`approved by ${OPERATOR}`).waitFor();
    await row.getByText(/^ready in \d/).waitFor();
    await page.getByText('5 of 10').waitFor();
    await assertNoSidewaysScroll(page);
    await checkA11y(page, 'hosting requests at phone width');
    await shot(page, 'requests-phone');

    await page.goto(`${rig.url}/capacity/forecast`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.equal(await page.getByText('Memory runs out').count(), 0);
    assert.deepEqual(capacityCalls, [], 'the console asked nothing of the capacity API');
    const direct = await page.evaluate("fetch('/api/v1/farms').then((r) => r.status)");
    assert.equal(direct, 403, 'and the API refuses it');

    await page.goto(`${rig.url}/requests`);
    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.getByRole('heading', { name: '寄存申請', level: 1 }).waitFor();
    await page.getByRole('heading', { name: `${DEPT} 的配額及用量` }).waitFor();
    await row.getByText('已開通').waitFor();
    await assertNoSidewaysScroll(page);
    await checkA11y(page, 'hosting requests in Chinese');
    await shot(page, 'requests-zh');
    await page.context().close();
  });
});
