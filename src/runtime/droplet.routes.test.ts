/** A droplet's archive served over a signed, short-lived URL, as a pod's init container fetches it. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar';
import { buildPaths } from '../build/build.logic.ts';
import { archiveBuilds } from '../build/droplet-archive.ts';
import { loadKey } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { DROPLET_SHA256_HEADER } from './droplet.routes.ts';
import { checkDropletUrl, dropletUrlKey, signDropletUrl } from './droplet-url.ts';

const SHA = 'd'.repeat(64);

/** A droplet folder of a few files, as staging leaves one. */
function writeDroplet(dropletsDir: string, sha: string, bytes = 1000): void {
  const dir = join(dropletsDir, sha);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'server.js'), 'console.log("hi")\n');
  writeFileSync(join(dir, 'lib', 'big.js'), `// ${'x'.repeat(bytes)}\n`);
}

describe('droplet archives over signed URLs', () => {
  let t: TestApp;
  let key: Buffer;
  const out = mkdtempSync(join(tmpdir(), 'govhost-droplet-fetch-'));
  before(async () => {
    t = await testApp();
    const dir = join(buildPaths(t.config.dataDir).dropletsDir, SHA);
    mkdirSync(join(dir, 'lib'), { recursive: true });
    writeFileSync(join(dir, 'server.js'), 'console.log("hi")\n');
    writeFileSync(join(dir, 'lib', 'a.js'), 'module.exports = 1;\n');
    key = dropletUrlKey(loadKey(join(t.config.dataDir, 'secret.key'), null, 'GOVHOST_SECRET_KEY'));
  });
  after(async () => {
    await t.close();
    rmSync(out, { recursive: true, force: true });
  });

  const get = (url: string) => {
    const u = new URL(url);
    return t.request(null, { method: 'GET', url: `${u.pathname}${u.search}` });
  };

  it('serves the archive without a token; its bytes match the sha256 it names, and unpack to the droplet', async () => {
    const res = await get(signDropletUrl('https://govhost.example', key, SHA));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/gzip');
    const sum = createHash('sha256').update(res.rawPayload).digest('hex');
    assert.equal(res.headers[DROPLET_SHA256_HEADER], sum);
    writeFileSync(join(out, 'd.tar.gz'), res.rawPayload);
    mkdirSync(join(out, 'app'));
    await extract({ file: join(out, 'd.tar.gz'), cwd: join(out, 'app') });
    assert.deepEqual(readdirSync(join(out, 'app')).sort(), ['lib', 'server.js']);
    assert.equal(readFileSync(join(out, 'app', 'lib', 'a.js'), 'utf8'), 'module.exports = 1;\n');
    // Made once and kept: a second fetch gives the same bytes.
    const again = await get(signDropletUrl('https://govhost.example', key, SHA));
    assert.equal(again.headers[DROPLET_SHA256_HEADER], sum);
  });

  it('refuses a tampered, foreign or expired URL with a problem, and an unknown droplet with 404', async () => {
    const good = new URL(signDropletUrl('https://govhost.example', key, SHA));
    const other = 'e'.repeat(64);
    const tampered = await get(good.toString().replace(SHA, other));
    assert.equal(tampered.statusCode, 403);
    assert.equal(tampered.json().code, 'GOVHOST_DROPLET_URL_INVALID');
    const foreign = await get(signDropletUrl('https://govhost.example', Buffer.alloc(32, 7), SHA));
    assert.equal(foreign.json().code, 'GOVHOST_DROPLET_URL_INVALID');
    const expired = await get(signDropletUrl('https://govhost.example', key, SHA, 60, Date.now() - 120_000));
    assert.equal(expired.statusCode, 403);
    assert.equal(expired.json().code, 'GOVHOST_DROPLET_URL_EXPIRED');
    const missing = await get(signDropletUrl('https://govhost.example', key, other));
    assert.equal(missing.statusCode, 404);
    const unsigned = await t.request(null, { method: 'GET', url: `/api/v1/droplets/${SHA}/archive` });
    assert.equal(unsigned.statusCode, 400);
  });

  it('makes one archive for many pods that ask at once', async () => {
    const sha = 'a'.repeat(64);
    const { dropletsDir } = buildPaths(t.config.dataDir);
    writeDroplet(dropletsDir, sha, 2_000_000);
    // Every build writes its own temp file beside the archive: count the ones made for this droplet.
    const archives = join(dropletsDir, '.archives');
    mkdirSync(archives, { recursive: true, mode: 0o700 });
    const temps = new Set<string>();
    const watcher = watch(archives, (_event, name) => {
      if (name?.startsWith(`.${sha}.`) && !name.endsWith('.sha256')) temps.add(name);
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => get(signDropletUrl('https://govhost.example', key, sha))),
      );
      assert.deepEqual(
        answers.map((r) => r.statusCode),
        Array(8).fill(200),
      );
      assert.equal(new Set(answers.map((r) => r.headers[DROPLET_SHA256_HEADER])).size, 1);
      // The rename into place is reported last: once it is seen, every temp name before it was too.
      assert.equal(temps.size, 1, `builds: ${[...temps].join(', ')}`);
    } finally {
      watcher.close();
    }
  });

  it('answers 503 with Retry-After past the bound of concurrent builds; made archives are still served', async () => {
    const sha = 'b'.repeat(64);
    writeDroplet(buildPaths(t.config.dataDir).dropletsDir, sha);
    // Two other droplets' builds held running (the bound is two): no timing decides the overlap.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holders = ['1', '2'].map((k) =>
      archiveBuilds.run(`held-${k}`, () => held.then(() => ({ path: '', sha256: '', size: 0 }))),
    );
    try {
      const busy = await get(signDropletUrl('https://govhost.example', key, sha));
      assert.equal(busy.statusCode, 503, busy.body);
      assert.match(String(busy.headers['content-type']), /^application\/problem\+json/);
      assert.equal(busy.json().code, 'GOVHOST_BUSY');
      assert.equal(busy.headers['retry-after'], '5');
      // An archive made before needs no build: served as ever.
      const made = await get(signDropletUrl('https://govhost.example', key, SHA));
      assert.equal(made.statusCode, 200);
    } finally {
      release();
      await Promise.all(holders);
    }
    const later = await get(signDropletUrl('https://govhost.example', key, sha));
    assert.equal(later.statusCode, 200, later.body);
  });

  it('checks signatures in constant-length comparisons and says why', () => {
    const url = new URL(signDropletUrl('https://x', key, SHA, 600, 1_000_000));
    const [expires, signature] = [url.searchParams.get('expires')!, url.searchParams.get('signature')!];
    assert.equal(checkDropletUrl(key, SHA, expires, signature, 1_000_000), 'ok');
    assert.equal(checkDropletUrl(key, SHA, expires, signature, 1_000_000 + 601_000), 'expired');
    assert.equal(checkDropletUrl(key, SHA, expires, `${signature}x`, 1_000_000), 'invalid');
    assert.equal(checkDropletUrl(key, SHA, undefined, signature), 'invalid');
    assert.throws(() => signDropletUrl('https://x', key, 'not-a-sha'), /64 lower-case hex/);
  });
});
