/** A droplet's archive served over a signed, short-lived URL, as a pod's init container fetches it. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar';
import { buildPaths } from '../build/build.logic.ts';
import { loadKey } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { DROPLET_SHA256_HEADER } from './droplet.routes.ts';
import { checkDropletUrl, dropletUrlKey, signDropletUrl } from './droplet-url.ts';

const SHA = 'd'.repeat(64);

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
