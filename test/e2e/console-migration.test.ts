// test-seconds: 29
// The migration programme's console pages in a real browser against the real server: a
// department developer sees the programme at a glance (items by state, the burndown chart, the
// waves, when the department leaves), opens a wave and an item, moves the item, reads it again
// in Traditional Chinese, and cannot open another department's item; every page passes axe.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM, type ConsoleRig, checkA11y, newPage, signIn, startConsoleRig } from './browser-helpers.ts';
import { createService } from './runtime-helpers.ts';

const DEPT = 'MIG';
const OTHER = 'OTH';
const PASSWORD = 'migration console password';
const DEV = 'mig.dev';

let rig: ConsoleRig;

async function call(method: string, path: string, body: unknown, status: number) {
  const res = await rig.api(method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
  return res.json;
}

describe('the migration programme in the console', {
  skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`,
}, () => {
  before(async () => {
    rig = await startConsoleRig('console-migration-e2e');
    for (const [code, en, zh] of [
      [DEPT, 'Migration Department', '遷移部'],
      [OTHER, 'Other Department', '其他部'],
    ] as const)
      await call('POST', '/departments', { code, nameEn: en, nameZh: zh }, 201);
    await call(
      'POST',
      '/users',
      { username: DEV, displayName: DEV, role: 'dept-developer', department: DEPT, password: PASSWORD },
      201,
    );
    await createService(rig.api, DEPT, 'licences');
    await call(
      'PUT',
      '/migration/waves/1',
      { name: 'Wave 1', plannedStart: '2030-01-01', plannedEnd: '2030-06-30' },
      201,
    );
    const item = (department: string, ref: string, name: string, extra: object = {}) =>
      call('POST', '/migration/items', { department, ref, name, sourcePlatform: 'EGIS', ...extra }, 201);
    await item(DEPT, 'EGIS-0001', 'Licence renewal', {
      complexity: 'low',
      wave: 1,
      plannedOn: '2030-03-15',
      targetService: 'licences',
      legacyUrl: 'https://egis.example/licences',
      contacts: ['Chan Tai Man'],
    });
    await item(DEPT, 'EGIS-0002', 'Licence search', { wave: 1 });
    await item(OTHER, 'EGIS-0900', 'Secret other service', { wave: 1, plannedOn: '2030-02-01' });
  });
  after(async () => {
    await rig?.stop();
  });

  it('programme, wave and item pages; a move; Chinese; another department’s item stays hidden', async () => {
    const page = await newPage(rig.browser);
    await signIn(page, rig.url, DEV, PASSWORD);
    await page.getByRole('link', { name: 'Migration' }).click();
    await page.getByRole('heading', { name: 'Migration', exact: true }).waitFor();
    await page.locator('[data-testid="by-state"] [data-state="inventoried"] dd').getByText('2').waitFor();
    await page.getByText('2 of 2 items are still on the legacy platform.').waitFor();
    await page.locator('figure[data-chart="burndown"] svg[role="img"]').waitFor();
    await page.locator(`tr[data-department="${DEPT}"]`).getByText('2030-06').waitFor();
    assert.equal(await page.locator(`tr[data-department="${OTHER}"]`).count(), 0, 'only its own department');
    await checkA11y(page, 'migration programme');

    await page.getByRole('link', { name: 'Wave 1' }).click();
    await page.getByRole('heading', { name: 'Wave 1' }).waitFor();
    await page.locator('figure[data-chart="burndown-wave-1"]').waitFor();
    await page.locator(`tr[data-item="${DEPT}/EGIS-0002"]`).getByText('inventoried').waitFor();
    assert.equal(await page.locator(`tr[data-item="${OTHER}/EGIS-0900"]`).count(), 0);
    await checkA11y(page, 'migration wave');

    await page.getByRole('link', { name: `${DEPT}/EGIS-0001` }).click();
    await page.getByRole('heading', { name: `${DEPT}/EGIS-0001: Licence renewal` }).waitFor();
    await page.getByText('https://egis.example/licences').waitFor();
    await page.getByLabel('Next state').selectOption('assessed');
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.getByText(`${DEPT}/EGIS-0001 is now assessed.`).waitFor();
    await page.getByRole('cell', { name: 'inventoried → assessed' }).waitFor();
    await checkA11y(page, 'migration item');

    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.locator('[data-testid="item-state"]').getByText('已評估').waitFor();
    await page.getByRole('cell', { name: '已盤點 → 已評估' }).waitFor();
    await checkA11y(page, 'migration item in Chinese');

    await page.goto(`${rig.url}/migration/items/${OTHER}/EGIS-0900`);
    await page
      .getByRole('alert')
      .getByText(/GOVHOST_DEPARTMENT_NOT_FOUND|GOVHOST_MIGRATION_ITEM_NOT_FOUND/)
      .waitFor();
    assert.equal(await page.getByText('Secret other service').count(), 0);
    await page.context().close();
  });
});
