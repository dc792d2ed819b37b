// A test run must not rewrite tracked files: the browser tests' screenshots go to a temporary
// folder, and docs/screenshots/ changes only through `npm run screenshots`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, launchBrowser, newPage, shot } from './browser-helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// What a plain `npm test` does, whatever the shell that started this run has set.
delete process.env.GOVHOST_SCREENSHOTS_DIR;

describe('browser tests: screenshots', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  it('go to a temporary folder outside the repository, never to docs/screenshots/', async () => {
    const inDocs = join(ROOT, 'docs', 'screenshots', 'screenshot-probe.png');
    const browser = await launchBrowser();
    try {
      const page = await newPage(browser, 400);
      await page.setContent('<!doctype html><title>probe</title><h1>Screenshot probe</h1>');
      const path = await shot(page, 'screenshot-probe');
      assert.equal(existsSync(inDocs), false, 'the screenshot was written into docs/screenshots/');
      assert.match(relative(ROOT, path), /^\.\.\//, `${path} is inside the repository`);
      // A real PNG was written there (its signature).
      assert.deepEqual([...readFileSync(path).subarray(1, 4)], [...Buffer.from('PNG')]);
      assert.ok(statSync(path).size > 100);
    } finally {
      await browser.close();
      rmSync(inDocs, { force: true });
    }
  });
});
