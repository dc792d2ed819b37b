// What the browser tests of the console share: Debian's Chromium through playwright-core, the
// axe-core check, screenshots (into a temporary folder, or the docs' on purpose), and signing in
// through the form.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { cleanEnv, startServer, stopProcess } from '../../src/test-support/server-process.ts';
import { type Api, apiClient, closeAgent } from './runtime-helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Names the folder the screenshots go to; `npm run screenshots` sets it to docs/screenshots. */
const SCREENSHOTS_DIR_ENV = 'GOVHOST_SCREENSHOTS_DIR';
const AXE = createRequire(import.meta.url).resolve('axe-core');

let shots: string | null = null;

/**
 * Where screenshots go. A test run must not rewrite tracked files, so by default they land in a
 * temporary folder removed when the test process ends; the docs' pictures change only when
 * someone refreshes them on purpose (`npm run screenshots`).
 */
function screenshotsDir(): string {
  if (shots) return shots;
  const wanted = process.env[SCREENSHOTS_DIR_ENV];
  if (wanted) {
    shots = resolve(wanted);
    mkdirSync(shots, { recursive: true });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-screenshots-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    shots = dir;
  }
  return shots;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox cannot start as root (CI runs as root).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** A page in a fresh context (no cookies, no local memory) of the given width. */
export async function newPage(browser: Browser, width = 1280): Promise<Page> {
  // bypassCSP only so that checkA11y may inject axe-core into the page.
  const context = await browser.newContext({
    bypassCSP: true,
    viewport: { width, height: width < 600 ? 740 : 800 },
    isMobile: width < 600,
  });
  return context.newPage();
}

/**
 * Runs axe-core in the page and fails on serious or critical violations. The contexts bypass the
 * console's Content-Security-Policy only so that this injected checker may run.
 */
export async function checkA11y(page: Page, what: string) {
  if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.addScriptTag({ path: AXE });
  const found = (await page.evaluate(`axe.run(document).then((r) => r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`)) as unknown[];
  assert.deepEqual(found, [], `${what}: accessibility violations ${JSON.stringify(found, null, 1)}`);
}

/** Saves a full-page screenshot named `name` (see screenshotsDir); resolves with its path. */
export async function shot(page: Page, name: string): Promise<string> {
  const path = join(screenshotsDir(), `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Fails when the page is wider than the screen (sideways scrolling on a phone). */
export async function assertNoSidewaysScroll(page: Page) {
  const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
  assert.ok((overflow as number) <= 0, `the page is ${overflow} px wider than the screen`);
}

export async function signIn(page: Page, url: string, username: string, password: string) {
  await page.goto(url);
  await page.getByLabel(/User name|用戶名稱/).fill(username);
  await page.getByLabel(/^(Password|密碼)$/).fill(password);
  await page.getByRole('button', { name: /^(Sign in|登入)$/ }).click();
  await page.getByRole('button', { name: /Sign out|登出/ }).waitFor();
}

/** A real platform in a data folder of its own (any free ports), and a browser to drive it. */
export interface ConsoleRig {
  url: string;
  /** The first admin's token, and an API client with it. */
  token: string;
  api: Api;
  browser: Browser;
  /** Closes the browser, stops the platform and removes its folder. */
  stop(): Promise<void>;
}

export async function startConsoleRig(name: string, settings: NodeJS.ProcessEnv = {}): Promise<ConsoleRig> {
  const work = mkdtempSync(join(tmpdir(), `govhost-${name}-`));
  const env = cleanEnv({
    GOVHOST_DATA_DIR: join(work, 'data'),
    GOVHOST_PORT: '0',
    GOVHOST_ROUTER_PORT: '0',
    GOVHOST_ROUTER_ADMIN_PORT: '0',
    ...settings,
  });
  const [started, launched] = await Promise.allSettled([startServer(env), launchBrowser()]);
  if (started.status === 'rejected' || launched.status === 'rejected') {
    // Whichever did start must stop, or a live browser keeps the test process from ending.
    if (launched.status === 'fulfilled') await launched.value.close();
    if (started.status === 'fulfilled') await stopProcess(started.value.proc);
    rmSync(work, { recursive: true, force: true });
    throw started.status === 'rejected' ? started.reason : (launched as PromiseRejectedResult).reason;
  }
  const s = started.value;
  const browser = launched.value;
  const token = s.token as string;
  return {
    url: s.url,
    token,
    api: apiClient(s.url, token),
    browser,
    async stop() {
      await browser.close();
      closeAgent();
      await stopProcess(s.proc);
      rmSync(work, { recursive: true, force: true });
    },
  };
}
