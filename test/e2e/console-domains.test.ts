// test-seconds: 50
// The console's custom domains and certificates in a real browser against the real server: a
// department developer claims a host name on the service page (and sees a refused one's reason),
// an operator approves one and rejects another from the queue, the department sees both outcomes,
// in English and in Traditional Chinese; the operator adds a wildcard certificate (a wrong key is
// refused with why) and removes it, and the developer turns HSTS off; every page passes axe.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { opensslMissing, type TestPki, testPki } from '../../src/edge/certificates.fixtures.ts';
import {
  CHROMIUM,
  type ConsoleRig,
  checkA11y,
  newPage,
  signIn as signInAs,
  startConsoleRig,
} from './browser-helpers.ts';
import { createService } from './runtime-helpers.ts';

const DEPT = 'CDM';
const PASSWORD = 'domains console password';
const DEV = 'cdm.dev';
const OPERATOR = 'domain.officer';
const FIRST = 'etax.cdm.gov.example';
const SECOND = 'old.cdm.gov.example';

let rig: ConsoleRig;
let pki: TestPki | null = null;

async function call(method: string, path: string, body: unknown, status: number) {
  const res = await rig.api(method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
  return res.json;
}

const signIn = (page: Page, username: string) => signInAs(page, rig.url, username, PASSWORD);

describe('custom domains in the console', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  before(async () => {
    rig = await startConsoleRig('console-domains-e2e');
    await call('POST', '/departments', { code: DEPT, nameEn: 'Domains Department', nameZh: '網域部' }, 201);
    for (const [username, role, department] of [
      [DEV, 'dept-developer', DEPT],
      [OPERATOR, 'operator', undefined],
    ] as const) {
      await call(
        'POST',
        '/users',
        { username, displayName: username, role, department, password: PASSWORD },
        201,
      );
    }
    await createService(rig.api, DEPT, 'etax');
  });
  after(async () => {
    await rig?.stop();
    await pki?.close();
  });

  it('department developer: claims host names on the service page; a platform name is refused with why', async () => {
    const page = await newPage(rig.browser);
    await signIn(page, DEV);
    assert.equal(await page.getByRole('link', { name: 'Custom domains' }).count(), 0, 'no approval queue');
    await page.goto(`${rig.url}/services/${DEPT}/etax/domains`);
    await page.getByRole('heading', { name: 'Custom domains' }).waitFor();
    await page.getByText('No custom domains.').waitFor();
    for (const name of [FIRST, SECOND]) {
      await page.getByLabel('Host name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Claim' }).click();
      await page.getByText(`${name} is claimed; it is routed once an operator approves it.`).waitFor();
    }
    const row = page.locator(`tr[data-domain="${FIRST}"][data-state="pending"]`);
    await row.getByText('waiting for approval').waitFor();
    await row.getByText(`_govhost-challenge.${FIRST} TXT`).waitFor();
    await page.getByLabel('Host name', { exact: true }).fill('app.localhost');
    await page.getByRole('button', { name: 'Claim' }).click();
    await page
      .locator('p.error')
      .getByText(/app\.localhost is a loopback name/)
      .waitFor();
    await checkA11y(page, 'service domains');
    await page.context().close();
  });

  it('operator: approves one and rejects one with a reason; the department sees both, also in Chinese', async () => {
    const page = await newPage(rig.browser);
    await signIn(page, OPERATOR);
    await page.getByRole('link', { name: 'Custom domains' }).click();
    await page.getByRole('heading', { name: 'Custom domains to approve' }).waitFor();
    await page.locator(`tr[data-domain="${FIRST}"]`).getByText(`${DEPT}/etax`).waitFor();
    await checkA11y(page, 'domain approval queue');
    await page.getByRole('button', { name: `Approve ${FIRST}` }).click();
    await page.getByText(`${FIRST} is approved: routed to ${DEPT}/etax.`).waitFor();
    await page.getByRole('button', { name: `Reject ${SECOND}` }).click();
    // The reason field takes the focus, so a keyboard user types straight into it.
    await page.keyboard.type('Not a name of this department');
    await checkA11y(page, 'domain reject form');
    await page.getByRole('button', { name: 'Reject the request' }).click();
    await page.getByText(`${SECOND} is rejected.`).waitFor();
    await page.getByText('No host name waits for approval.').waitFor();
    await page.context().close();

    const dev = await newPage(rig.browser);
    await signIn(dev, DEV);
    await dev.goto(`${rig.url}/services/${DEPT}/etax/domains`);
    await dev
      .locator(`tr[data-domain="${FIRST}"][data-state="approved"]`)
      .getByText('approved: routed')
      .waitFor();
    await dev
      .locator(`tr[data-domain="${SECOND}"][data-state="rejected"]`)
      .getByText('because: Not a name of this department')
      .waitFor();
    await dev.getByLabel('Language').selectOption('zh-Hant');
    await dev.getByRole('heading', { name: '自訂網域' }).waitFor();
    await dev.locator(`tr[data-domain="${FIRST}"]`).getByText('已批准：已導向').waitFor();
    await dev
      .locator(`tr[data-domain="${SECOND}"]`)
      .getByText('原因：Not a name of this department')
      .waitFor();
    await checkA11y(dev, 'service domains in Chinese');
    await dev.context().close();
  });

  it('operator: adds a wildcard certificate (a wrong key refused with why) and removes it; the department turns HSTS off', async (t) => {
    const missing = await opensslMissing();
    if (missing) return t.skip(missing);
    pki = await testPki();
    const wildcard = await pki.leaf([`*.${DEPT.toLowerCase()}.gov.example`]);
    const other = await pki.leaf(['other.gov.example']);
    const chain = wildcard.cert + pki.intermediate.cert;
    const page = await newPage(rig.browser);
    await signIn(page, OPERATOR);
    await page.getByRole('link', { name: 'Certificates' }).click();
    await page.getByRole('heading', { name: 'Certificates', level: 1 }).waitFor();
    await page.getByText('No certificates.').waitFor();
    await page.getByLabel('Certificate chain (PEM)').fill(chain);
    await page.getByLabel('Private key (PEM)').fill(other.key);
    await page.getByLabel('Host it must cover (optional)').fill(FIRST);
    await page.getByRole('button', { name: 'Check and add' }).click();
    await page.locator('p.error').getByText(/key/i).waitFor();
    await checkA11y(page, 'certificate refused');
    await page.getByLabel('Private key (PEM)').fill(wildcard.key);
    await page.getByRole('button', { name: 'Check and add' }).click();
    const names = `*.${DEPT.toLowerCase()}.gov.example`;
    await page.getByText(`Added; served for ${names} with the next route table.`).waitFor();
    // The key is never shown again, nor kept in the form.
    assert.equal(await page.getByLabel('Private key (PEM)').inputValue(), '');
    const row = page.locator('tr[data-certificate]');
    await row.getByText(/\d+ days left/).waitFor();
    await row.getByText('GovHost Test Intermediate', { exact: false }).waitFor();
    const listed = (await call('GET', '/certificates', undefined, 200)) as { items: { names: string[] }[] };
    assert.deepEqual(
      listed.items.map((c) => c.names),
      [[names]],
    );
    await checkA11y(page, 'certificates');
    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.getByRole('heading', { name: '證書', level: 1 }).waitFor();
    await checkA11y(page, 'certificates in Chinese');
    await page.getByLabel('語言').selectOption('en');
    await page.getByRole('button', { name: `Remove ${names}` }).click();
    // The confirmation takes the focus: Enter confirms.
    await page.keyboard.press('Enter');
    await page.getByText(`Removed the certificate for ${names}.`).waitFor();
    await page.getByText('No certificates.').waitFor();
    assert.deepEqual(await call('GET', '/certificates', undefined, 200), { items: [] });
    await page.context().close();

    const dev = await newPage(rig.browser);
    await signIn(dev, DEV);
    // The developer chose Chinese in the test before: the console remembers it.
    await dev.getByRole('link', { name: '服務' }).first().waitFor();
    assert.equal(await dev.getByRole('link', { name: '證書' }).count(), 0, 'operators only');
    await dev.goto(`${rig.url}/services/${DEPT}/etax/domains`);
    const hsts = dev.getByLabel('發送 Strict-Transport-Security（HSTS）');
    await hsts.waitFor();
    assert.equal(await hsts.isChecked(), true, 'HSTS is on by default');
    await hsts.uncheck();
    await dev.getByText('已儲存 HTTPS 設定。').waitFor();
    assert.deepEqual(await call('GET', `/services/${DEPT}/etax/https`, undefined, 200), {
      httpsRedirect: true,
      hsts: false,
    });
    await checkA11y(dev, 'service HTTPS settings');
    await dev.context().close();
  });
});
