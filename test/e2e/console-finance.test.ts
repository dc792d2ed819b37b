// test-seconds: 30
// Finance's console pages in a real browser against the real server: a finance officer reads
// the paper's business case (the annex's totals and its chart), copies it and edits the copy
// (contingency at 10 %, no avoidable spend: net savings below zero), sees the rate card, and has
// the cost model propose rates, adopted from a day (refused whole on a clash); a department
// viewer sees only its own department's statement, with its CSV, in English and Traditional
// Chinese, never another department's, nor the proposal. Every page passes axe.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM, type ConsoleRig, checkA11y, newPage, signIn, startConsoleRig } from './browser-helpers.ts';

const DEPT = 'FIN';
const OTHER = 'OTH';
const PASSWORD = 'finance console password';
const OFFICER = 'fin.officer';
const VIEWER = 'fin.viewer';

let rig: ConsoleRig;

async function call(method: string, path: string, body: unknown, status: number) {
  const res = await rig.api(method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
  return res.json;
}

describe('finance in the console', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  const month = new Date().toISOString().slice(0, 7);
  const today = new Date().toISOString().slice(0, 10);
  before(async () => {
    rig = await startConsoleRig('console-finance-e2e');
    for (const [code, en, zh] of [
      [DEPT, 'Finance Test Department', '財務測試部'],
      [OTHER, 'Other Department', '其他部'],
    ] as const)
      await call('POST', '/departments', { code, nameEn: en, nameZh: zh }, 201);
    for (const [username, role, department] of [
      [OFFICER, 'finance', undefined],
      [VIEWER, 'dept-viewer', DEPT],
    ] as const)
      await call(
        'POST',
        '/users',
        { username, displayName: username, role, password: PASSWORD, ...(department ? { department } : {}) },
        201,
      );
    await call(
      'POST',
      '/finance/rates',
      { resource: 'memory-gb-hour', validFrom: today, centsPerUnit: 2.5 },
      201,
    );
    // A farm for the rate proposal to recover the cost from (nothing is placed on it).
    await call(
      'POST',
      '/farms',
      {
        code: 'FE1',
        name: 'Farm FE1',
        vcpu: 16,
        memoryMb: 65_536,
        storageGb: 100,
        idleWatts: 100,
        maxWatts: 300,
        costHkd: 3_300_000,
        phase: 1,
        state: 'active',
        activeFrom: '2026-01-01',
      },
      201,
    );
    // Nothing is deployed, so each statement is its adjustment alone: HK$12.50 and HK$99.99.
    await call(
      'POST',
      '/finance/adjustments',
      { department: DEPT, month, amountCents: 1250, reason: 'Credit for the test outage' },
      201,
    );
    await call('PUT', `/finance/budgets/${DEPT}/month`, { amountCents: 1500 }, 200);
    await call(
      'POST',
      '/finance/adjustments',
      { department: OTHER, month, amountCents: 9999, reason: 'Secret other charge' },
      201,
    );
  });
  after(async () => {
    await rig?.stop();
  });

  it('a finance officer: the annex with its chart, a copy at 10 % contingency, the rate card', async () => {
    const page = await newPage(rig.browser);
    await signIn(page, rig.url, OFFICER, PASSWORD);
    await page.getByRole('link', { name: 'Finance' }).click();
    await page.getByRole('heading', { name: 'Finance', exact: true }).waitFor();
    const totals = page.getByTestId('bc-totals');
    await totals.locator('[data-total="cost"] dd').getByText('385,300', { exact: true }).waitFor();
    await totals.locator('[data-total="savings"] dd').getByText('484,400', { exact: true }).waitFor();
    await totals.locator('[data-total="net"] dd').getByText('99,100', { exact: true }).waitFor();
    const chart = page.locator('figure[data-chart="business-case"] svg[role="img"]');
    assert.match(
      (await chart.getAttribute('aria-label')) ?? '',
      /Cost, savings and cumulative net savings.*Cumulative net savings: latest 99100/,
    );
    // The paper's cumulative net savings never run below zero: the chart's floor is zero.
    assert.equal(await page.locator('figure[data-chart="business-case"] line[data-zero]').count(), 0);
    const cumulative = page.locator('tr[data-row="net.cumulative"] td');
    assert.equal(await cumulative.count(), 10, '9 years and an empty total');
    assert.equal(await cumulative.nth(8).textContent(), '99,100');
    await checkA11y(page, 'business case');

    await page.getByLabel('Name of the copy (lower-case letters, digits, hyphens)').fill('rate-10');
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await page.getByText('Scenario rate-10 created.').waitFor();
    await page.getByRole('heading', { name: 'Edit rate-10' }).waitFor();
    await page.getByLabel(/^Contingency as a rate/).fill('10');
    // And without the avoidable spend of paragraph 13 (65,000 a year for 4 years), every amount as JSON.
    const json = page.getByLabel('Cost model (JSON, HK$ thousands by year)');
    const model = JSON.parse(await json.inputValue());
    model.savings.oneOffAvoidable = model.savings.oneOffAvoidable.map(() => 0);
    await json.fill(JSON.stringify(model));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Scenario rate-10 saved.').waitFor();
    // Contingency at 10 % of (a) to (c), rounded each year: 12,270 against the printed 12,300;
    // savings 484,400 − 260,000; net 224,400 − 385,270, below zero: the chart draws its zero line.
    await totals.locator('[data-total="cost"] dd').getByText('385,270', { exact: true }).waitFor();
    await totals.locator('[data-total="savings"] dd').getByText('224,400', { exact: true }).waitFor();
    await totals.locator('[data-total="net"] dd').getByText('-160,870', { exact: true }).waitFor();
    assert.equal(await page.locator('figure[data-chart="business-case"] line[data-zero]').count(), 1);
    await checkA11y(page, 'business case of a copy');

    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.getByRole('heading', { name: '財務', exact: true }).waitFor();
    await page.getByRole('rowheader', { name: '累計節省淨額' }).waitFor();
    await checkA11y(page, 'business case in Chinese');
    await page.getByLabel('語言').selectOption('en');

    await page.getByRole('link', { name: 'Rate card' }).click();
    await page.locator(`tr[data-rate="memory-gb-hour:${today}"]`).getByText('2.5', { exact: true }).waitFor();
    await checkA11y(page, 'rate card');

    // The rate proposal: the paper's 2015-16 at 50 %, as the API proposes it, with its basis.
    const expected = await call(
      'GET',
      '/finance/rates/proposal?scenario=paper&year=2015-16&utilisation=0.5&memoryShare=0.5',
      undefined,
      200,
    );
    const proposal = page.getByTestId('rate-proposal');
    await proposal.getByLabel('Financial year').selectOption('2015-16');
    await proposal.getByLabel('Target utilisation (%)').fill('50');
    await proposal.getByRole('button', { name: 'Propose rates' }).click();
    for (const r of expected.rates as { resource: string; centsPerUnit: number }[])
      await proposal
        .locator(`tr[data-proposed="${r.resource}"]`)
        .getByText(String(r.centsPerUnit), { exact: true })
        .waitFor();
    assert.match(
      (await proposal.getByTestId('proposal-basis').textContent()) ?? '',
      /^paper 2015-16: recurring cost HK\$36,100,000\.00 over 8784 hours, on [\d.]+ CPU and [\d.]+ GB at 50 % utilisation, 50 % of the cost on memory\.$/,
    );
    await checkA11y(page, 'rate proposal');
    // Adopted from today: memory already has today's 2.5, so neither rate is added; from
    // tomorrow both are, with their basis.
    await proposal.getByRole('button', { name: 'Adopt these rates' }).click();
    await proposal.getByText(`memory-gb-hour already has a rate from ${today}`).waitFor();
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    await proposal.getByLabel('Adopt from').fill(tomorrow);
    await proposal.getByRole('button', { name: 'Adopt these rates' }).click();
    await proposal.getByText(`Proposed memory and CPU rates adopted from ${tomorrow}.`).waitFor();
    for (const r of expected.rates as { resource: string; centsPerUnit: number }[])
      await page
        .locator(`tr[data-rate="${r.resource}:${tomorrow}"]`)
        .getByText(String(r.centsPerUnit), { exact: true })
        .waitFor();
    assert.equal(await page.locator(`tr[data-rate="cpu-hour:${today}"]`).count(), 0);
    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.getByRole('heading', { name: '由成本模型推算的收費率' }).waitFor();
    await proposal.getByText(/^paper 2015-16：經常成本/).waitFor();
    await checkA11y(page, 'rate proposal in Chinese');
    await page.getByLabel('語言').selectOption('en');

    await page.getByRole('link', { name: 'Statements' }).click();
    await page.getByTestId('statement-department').selectOption(OTHER);
    await page.getByRole('heading', { name: `Statement of ${OTHER} for ${month}` }).waitFor();
    await page.getByTestId('statement-total').getByText('HK$99.99').waitFor();
    await page.context().close();
  });

  it('a department viewer: its own statement and its CSV, in both languages; never another’s', async () => {
    const page = await newPage(rig.browser);
    await signIn(page, rig.url, VIEWER, PASSWORD);
    await page.getByRole('link', { name: 'Finance' }).click();
    await page.getByRole('heading', { name: `Statement of ${DEPT} for ${month}` }).waitFor();
    await page.getByTestId('statement-total').getByText('HK$12.50').waitFor();
    await page.getByRole('cell', { name: 'Credit for the test outage' }).waitFor();
    await page.locator('[data-budget="month"]').getByText(`Monthly budget, ${month}`).waitFor();
    await page.locator('[data-budget="month"]').getByText('HK$12.50 of HK$15.00 (83 %)').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Business case' }).count(), 0, 'the central team’s');
    assert.equal(await page.getByTestId('statement-department').count(), 0, 'no other department to pick');
    assert.equal(await page.getByText('Secret other charge').count(), 0);
    await checkA11y(page, 'statement');

    const href = await page.getByRole('link', { name: 'Download as CSV' }).getAttribute('href');
    assert.ok(href);
    const csv = await page.request.get(new URL(href, rig.url).toString());
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-disposition'] ?? '', /govhost-statement-FIN-/);
    assert.ok((await csv.text()).endsWith(`${DEPT},${month},total,,,,,1250\r\n`));
    // Another department's, asked for by hand in the same session: as if it did not exist.
    const other = await page.request.get(
      `${rig.url}/api/v1/finance/statements?department=${OTHER}&month=${month}&format=csv`,
    );
    assert.equal(other.status(), 404);

    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.getByRole('heading', { name: `${DEPT} ${month} 月結單` }).waitFor();
    await page.getByRole('link', { name: '下載 CSV' }).waitFor();
    await checkA11y(page, 'statement in Chinese');
    await page.getByRole('link', { name: '收費表' }).click();
    await page
      .locator(`tr[data-rate="memory-gb-hour:${today}"]`)
      .getByRole('cell', { name: '記憶體（GB 小時）' })
      .waitFor();
    assert.equal(await page.getByRole('heading', { name: '新增收費率' }).count(), 0, 'finance:write only');
    assert.equal(await page.getByTestId('rate-proposal').count(), 0, 'the central team’s');
    await checkA11y(page, 'rate card in Chinese');
    await page.context().close();
  });
});
