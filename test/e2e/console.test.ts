// test-seconds: 58
// The web console in a real browser (Debian's Chromium driven by playwright-core) against the real
// server: a real deploy of the Node example, then what department staff and operators do with it.
// Screenshots the main pages (see `shot`: docs/screenshots/ only through `npm run screenshots`)
// and checks each page with axe-core.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { until } from '../../src/test-support/until.ts';
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
import { type Api, deployDir, waitDeployment } from './runtime-helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPT = 'CON';
const OTHER = 'OTH';
const PASSWORD = 'console e2e password';
const STAFF = 'con.admin';
const OPERATOR = 'ops.duty';

let rig: ConsoleRig | undefined;
let url: string;
let api: Api;
let browser: Browser;

async function create(path: string, body: unknown) {
  const res = await api('POST', path, body);
  assert.equal(res.status, 201, `${path}: ${JSON.stringify(res.json)}`);
}

const signIn = (page: Page, username: string) => signInAs(page, url, username, PASSWORD);

describe('web console in Chromium', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  before(async () => {
    // Probes every second, so that an outage opens an incident within seconds.
    rig = await startConsoleRig('console-e2e', { GOVHOST_PROBE_INTERVAL_MS: '1000' });
    ({ browser, url, api } = rig);
    await create('/departments', { code: DEPT, nameEn: 'Console Department', nameZh: '控制台部' });
    await create('/departments', { code: OTHER, nameEn: 'Other Department', nameZh: '其他部門' });
    const service = { origin: 'new', channels: ['web'], slaTier: 'silver' };
    await create('/services', {
      department: DEPT,
      slug: 'hello',
      nameEn: 'Hello',
      nameZh: '你好',
      ...service,
    });
    await create('/services', {
      department: OTHER,
      slug: 'private',
      nameEn: 'Private',
      nameZh: '私人',
      ...service,
    });
    await create('/users', {
      username: STAFF,
      displayName: 'Staff',
      role: 'dept-admin',
      department: DEPT,
      password: PASSWORD,
    });
    await create('/users', { username: OPERATOR, displayName: 'Duty', role: 'operator', password: PASSWORD });
    const token = rig.token;
    const { deployment } = await deployDir(
      url,
      api,
      token,
      `${DEPT}/hello`,
      join(ROOT, 'examples/apps/node-hello'),
    );
    assert.equal(deployment.state, 'succeeded', JSON.stringify(deployment));
  });

  after(async () => {
    await rig?.stop();
  });

  it('department staff: sign in, see the example running, scale it, read its logs and charts, switch to Chinese', async () => {
    const page = await newPage(browser);
    await page.goto(url);
    await page.getByRole('heading', { name: 'Sign in to GovHost' }).waitFor();
    await checkA11y(page, 'sign-in');
    await shot(page, 'sign-in');
    await signIn(page, STAFF);

    // The services list shows the deployed example with its live state.
    const row = page.locator('tr[data-service="CON/hello"]');
    await row.getByText('1 of 1 instances running').waitFor();
    assert.equal(
      await page.locator('tr[data-service^="OTH/"]').count(),
      0,
      'another department is not listed',
    );
    await checkA11y(page, 'services');
    await shot(page, 'services');

    // The service page: one running instance; scale to two through the form.
    await row.getByRole('link', { name: 'Hello' }).click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor();
    await page.locator('tr[data-instance-state="healthy"]').first().waitFor();
    // How the service is kept apart: its own user and the loopback rules (as root), or why not.
    const isolation = (await page.getByTestId('isolation').textContent()) ?? '';
    assert.match(
      isolation,
      process.getuid?.() === 0
        ? /^Isolation: runs as \S+ \(uid \d+\) · network isolation: (enforced \(nftables\)|not enforced \(.+\))$/
        : /^Isolation: the platform is not running as root.* · network isolation: not enforced \(the platform is not running as root\)$/,
    );
    await page.getByLabel('Number of instances').fill('2');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText(/Scaling started/).waitFor();
    await page.waitForFunction(
      'document.querySelectorAll(\'tr[data-instance-state="healthy"]\').length === 2',
      null,
      {
        timeout: 30_000,
      },
    );
    await page.getByText('2 of 2 instances running').waitFor({ timeout: 30_000 });
    await checkA11y(page, 'service overview');
    await shot(page, 'service');

    // Deploy history: the scaling is recorded; wait for it to finish before changing the environment.
    await page.getByRole('link', { name: 'Deploy history' }).click();
    await page
      .locator('tr[data-deployment-kind="scale"][data-deployment-state="succeeded"]')
      .waitFor({ timeout: 30_000 });

    // Environment: a secret set through the form is listed masked, its value never on the page.
    await page.getByRole('link', { name: 'Environment variables' }).click();
    await page.getByRole('heading', { name: 'Set a variable' }).waitFor();
    await page.getByLabel('Key', { exact: true }).fill('API_KEY');
    await page.getByLabel('Value', { exact: true }).fill('e2e-very-secret-value');
    await page.getByLabel(/^Secret/).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('API_KEY saved.').waitFor();
    await page.locator('tr[data-env="API_KEY"][data-secret="true"]').getByText('secret (hidden)').waitFor();
    assert.equal(await page.getByText('e2e-very-secret-value').count(), 0, 'the secret is not shown');
    assert.equal(await page.getByLabel('Value', { exact: true }).inputValue(), '', 'the form forgot it');
    await checkA11y(page, 'environment variables');
    await shot(page, 'service-env');

    await page.getByRole('link', { name: 'Deploy history' }).click();
    await page
      .locator('tr[data-deployment-kind="env"][data-deployment-state="succeeded"]')
      .waitFor({ timeout: 30_000 });
    // The first deploy's staging output, as `govhost deploy` printed it: the builder it chose.
    const firstDeploy = page.locator('tr[data-deployment-kind="deploy"]').last();
    const show = firstDeploy.getByRole('button', { name: 'Show staging log' });
    assert.equal(await show.getAttribute('aria-expanded'), 'false');
    await show.click();
    await page.getByText('Staging has ended.').waitFor();
    const staged = (await page.getByTestId('staging-log-1').textContent()) ?? '';
    assert.match(staged, /builder .*node/i, 'the staging log names the builder');
    assert.equal(
      await firstDeploy.getByRole('button', { name: 'Hide staging log' }).getAttribute('aria-expanded'),
      'true',
    );
    await checkA11y(page, 'deploy history');
    await shot(page, 'service-history');

    // Logs: the instances' output, as the app printed it.
    const logRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/logs?')) logRequests.push(r.url());
    });
    await page.getByRole('link', { name: 'Logs' }).click();
    await page
      .getByTestId('logs')
      .getByText(/node-hello listening on port/)
      .waitFor();
    // Streamed, not polled: a third instance's first line arrives on the open page.
    const startedLines = () =>
      page
        .getByTestId('logs')
        .textContent()
        .then((t) => (t ?? '').match(/node-hello listening on port/g)?.length ?? 0);
    const before = await startedLines();
    const more = await api('POST', `/services/${DEPT}/hello/scale`, { instances: 3 });
    assert.equal(more.status, 202, JSON.stringify(more.json));
    await page.waitForFunction(
      `document.querySelector('[data-testid="logs"]').textContent.split('node-hello listening on port').length - 1 > ${before}`,
      null,
      { timeout: 30_000 },
    );
    assert.ok((await startedLines()) > before);
    assert.equal(logRequests.length, 1, `one streamed response, no polling: ${logRequests.join(', ')}`);
    assert.match(logRequests[0] ?? '', /follow=true/);
    assert.equal((await waitDeployment(api, `${DEPT}/hello`, more.json.id)).state, 'succeeded');
    const back = await api('POST', `/services/${DEPT}/hello/scale`, { instances: 2 });
    assert.equal(back.status, 202, JSON.stringify(back.json));
    assert.equal((await waitDeployment(api, `${DEPT}/hello`, back.json.id)).state, 'succeeded');
    await checkA11y(page, 'logs');
    await shot(page, 'logs');

    // Charts: requests, errors, latency, CPU and memory over a chosen range.
    await page.getByRole('link', { name: 'Charts' }).click();
    for (const id of ['requests', 'errors', 'latency', 'cpu', 'memory'])
      await page.locator(`figure[data-chart="${id}"]`).waitFor();
    await page.getByLabel('Time range').selectOption('6h');
    await page.locator('figure[data-chart="memory"]').waitFor();
    await checkA11y(page, 'charts');
    await shot(page, 'charts');

    await page.getByRole('link', { name: 'Alerts and SLA' }).click();
    await page.getByRole('heading', { name: 'SLA this month' }).waitFor();
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    await checkA11y(page, 'alerts and SLA');

    // Traditional Chinese, remembered across a full reload.
    await page.getByLabel('Language').selectOption('zh-Hant');
    await page.getByRole('heading', { name: '本月 SLA' }).waitFor();
    await page.goto(`${url}/services/${DEPT}/hello`);
    await page.getByRole('heading', { name: '實例' }).waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'zh-Hant');
    await checkA11y(page, 'service overview in Chinese');
    await shot(page, 'service-zh');

    // Editing the URL to another department's service shows not-found, never its data.
    await page.goto(`${url}/services/${OTHER}/private`);
    await page.getByRole('heading', { name: '找不到服務' }).waitFor();
    assert.equal(await page.getByText('私人').count(), 0);

    // Sign out: back to the sign-in form, and the session no longer works.
    await page.getByRole('button', { name: '登出' }).click();
    await page.getByRole('heading', { name: '登入 GovHost' }).waitFor();
    const me = await page.evaluate("fetch('/api/v1/me').then((r) => r.status)");
    assert.equal(me, 401);
    await page.context().close();
  });

  it('works at phone width without sideways scrolling', async () => {
    const page = await newPage(browser, 375);
    await signIn(page, STAFF);
    await page.locator('tr[data-service="CON/hello"]').waitFor();
    // A fresh browser, so no local memory: the Chinese chosen earlier comes from the server.
    await page.getByRole('heading', { name: '服務' }).waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'zh-Hant');
    await assertNoSidewaysScroll(page);
    await checkA11y(page, 'services at phone width');
    await shot(page, 'services-phone');
    await page.context().close();
  });

  it('operators: every department, open incidents and the audit log', async () => {
    const page = await newPage(browser);
    await signIn(page, OPERATOR);
    await page.locator('tr[data-service="OTH/private"]').waitFor();

    await page.getByRole('link', { name: 'Departments' }).click();
    await page.getByRole('heading', { name: 'Platform health' }).waitFor();
    await page.getByRole('cell', { name: 'Console Department' }).waitFor();
    await checkA11y(page, 'departments');
    await shot(page, 'departments');

    // An outage: the example scaled to nothing opens an incident, which the operator acknowledges
    // and resolves in the browser.
    const down = await api('POST', `/services/${DEPT}/hello/scale`, { instances: 0 });
    assert.equal(down.status, 202, JSON.stringify(down.json));
    const incident = await until(
      'an open incident for the example',
      async () => {
        const list = await api('GET', '/incidents?state=open');
        return list.json.items.find((i: { service: string }) => i.service === `${DEPT}/hello`);
      },
      60_000,
    );
    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.getByRole('heading', { name: 'Open incidents' }).waitFor();
    const row = page.locator(`tr[data-incident="${incident.id}"]`);
    await row.getByRole('button', { name: `Acknowledge #${incident.id}` }).click();
    await row.getByText(`(${OPERATOR})`).waitFor();
    await checkA11y(page, 'incidents');
    await shot(page, 'incidents');
    await row.getByRole('button', { name: `Resolve #${incident.id}` }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'resolved', exact: true }).click();
    await page.locator(`tr[data-incident="${incident.id}"][data-incident-state="resolved"]`).waitFor();
    const after = await api('GET', `/incidents/${incident.id}`);
    assert.equal(after.json.acknowledgedBy, OPERATOR);
    assert.ok(after.json.resolvedAt, JSON.stringify(after.json));

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'service.create' }).first().waitFor();
    // The server filters by a family of actions: only session records come back.
    await page.getByLabel('Action', { exact: true }).fill('session.');
    await page.getByRole('button', { name: 'Search the audit log' }).click();
    await page.getByRole('cell', { name: 'service.create' }).first().waitFor({ state: 'detached' });
    // The old rows go as soon as the new search starts; read the rows once the answer is shown.
    await page
      .getByRole('cell', { name: /^session\./ })
      .first()
      .waitFor();
    const actions = await page.locator('tbody tr td:nth-child(5)').allInnerTexts();
    assert.ok(actions.length > 0 && actions.every((a) => a.startsWith('session.')), actions.join(', '));
    await page.getByLabel('Action', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Search the audit log' }).click();
    await page.getByRole('cell', { name: 'service.create' }).first().waitFor();
    await page.getByLabel(/Filter/).fill(STAFF);
    await page.getByRole('cell', { name: 'session.create' }).first().waitFor();
    await checkA11y(page, 'audit');
    await shot(page, 'audit');

    // One's own name leads to one's own tokens, this console session among them.
    await page.getByRole('link', { name: OPERATOR, exact: true }).click();
    await page.getByRole('heading', { name: `Tokens of ${OPERATOR}` }).waitFor();
    await page
      .locator('tr[data-token-state="active"]')
      .getByRole('cell', { name: 'session' })
      .first()
      .waitFor();
    await page.context().close();
  });

  it('department admin: users of the department, a token created (secret shown once) and revoked', async () => {
    const page = await newPage(browser);
    await signIn(page, STAFF);
    // The server remembered Chinese; switch back to English, which is saved for the next sign-in.
    await page.getByRole('link', { name: '用戶' }).click();
    await page.getByRole('heading', { name: '用戶', level: 1 }).waitFor();
    await checkA11y(page, 'users in Chinese');
    await page.getByLabel('語言').selectOption('en');
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();

    await page.locator(`tr[data-user="${STAFF}"]`).waitFor();
    assert.equal(
      await page.locator(`tr[data-user="${OPERATOR}"]`).count(),
      0,
      'platform users are not listed',
    );
    await page.getByLabel('User name').fill('con.dev');
    await page.getByLabel('Full name').fill('Console Developer');
    await page.getByLabel('Role').selectOption('dept-developer');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByText('User con.dev created.').waitFor();
    await page.locator('tr[data-user="con.dev"]').waitFor();
    await checkA11y(page, 'users');
    await shot(page, 'users');

    await page.getByRole('link', { name: 'con.dev' }).click();
    await page.getByRole('heading', { name: 'Tokens of con.dev' }).waitFor();
    await page.getByText('No tokens.').waitFor();
    await page.getByLabel('Token name').fill('ci pipeline');
    await page.getByLabel('Scope').selectOption('write');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByTestId('token-secret').locator('code').textContent()) ?? '';
    assert.ok(secret.length > 20, `a secret is shown: ${secret}`);
    const meWith = async () =>
      (await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } })).status;
    assert.equal(await meWith(), 200, 'the shown secret works');
    await page.locator('tr[data-token="ci pipeline"][data-token-state="active"]').waitFor();
    assert.equal(await page.getByText(secret).count(), 1, 'the secret appears once, not in the table');
    await checkA11y(page, 'tokens');
    await shot(page, 'tokens');

    await page.getByRole('button', { name: 'Revoke ci pipeline' }).click();
    await page.locator('tr[data-token="ci pipeline"][data-token-state="revoked"]').waitFor();
    assert.equal(await meWith(), 401, 'a revoked token no longer works');

    await page.getByRole('link', { name: 'Back to users' }).click();
    await page.getByRole('button', { name: 'Disable con.dev' }).click();
    await page.locator('tr[data-user="con.dev"]').getByText('disabled').waitFor();
    await page.context().close();
  });
});
