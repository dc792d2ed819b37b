import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningRouter } from './router.ts';
import { ask, putRoutes, startTestRouter } from './testing.ts';

/** A raw request whose path Node's client sends exactly as written (`/../`, `%2e%2e`). */
function rawGet(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('router: static sites', () => {
  let router: RunningRouter;
  let dir: string;
  let site: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'govhost-static-'));
    site = join(dir, 'site');
    mkdirSync(join(site, 'docs'), { recursive: true });
    writeFileSync(join(site, 'index.html'), '<h1>Home</h1>');
    writeFileSync(join(site, 'docs', 'index.html'), '<h1>Docs</h1>');
    writeFileSync(join(site, 'style.css'), 'body{}');
    writeFileSync(join(site, '.env'), 'SECRET=1');
    writeFileSync(join(dir, 'secret.txt'), 'outside the site');
    symlinkSync(join(dir, 'secret.txt'), join(site, 'leak.txt'));
    router = await startTestRouter();
    await putRoutes(router, [
      { hostname: 'www.test.localhost', service: 'TEST/www', kind: 'static', backends: [], staticRoot: site },
    ]);
  });
  after(async () => {
    await router.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves index.html for the root and for folders, and files by type', async () => {
    const home = await ask(router.port, { host: 'www.test.localhost' });
    assert.equal(home.status, 200);
    assert.equal(home.body, '<h1>Home</h1>');
    assert.match(String(home.headers['content-type']), /text\/html/);
    const docs = await ask(router.port, { host: 'www.test.localhost', path: '/docs/' });
    assert.equal(docs.body, '<h1>Docs</h1>');
    const css = await ask(router.port, { host: 'www.test.localhost', path: '/style.css?v=2' });
    assert.match(String(css.headers['content-type']), /text\/css/);
    const redirect = await ask(router.port, { host: 'www.test.localhost', path: '/docs' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/docs/');
  });

  test('a client cannot pose as the router to the file server', async () => {
    const r = await ask(router.port, {
      host: 'www.test.localhost',
      headers: { 'X-GovHost-Static-Key': 'guess' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, '<h1>Home</h1>');
  });

  test('refuses paths that climb out of the folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/docs/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
    ]) {
      const status = await rawGet(router.port, 'www.test.localhost', path);
      assert.ok(status === 403 || status === 404, `${path} → ${status}`);
    }
  });

  test('hides dotfiles and symlinks leading outside the folder', async () => {
    assert.equal((await ask(router.port, { host: 'www.test.localhost', path: '/.env' })).status, 404);
    const leak = await ask(router.port, { host: 'www.test.localhost', path: '/leak.txt' });
    assert.equal(leak.status, 404);
    assert.doesNotMatch(leak.body, /outside the site/);
  });

  test('missing files get the 404 page; other methods 405', async () => {
    const missing = await ask(router.port, { host: 'www.test.localhost', path: '/nope.html' });
    assert.equal(missing.status, 404);
    assert.match(missing.body, /There is no page at this address/);
    const post = await ask(router.port, { host: 'www.test.localhost', method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });
});
