/**
 * A staging Job's two signed URLs, served by the real application: the bundle it fetches and the
 * single-use upload of its droplet, each refusing tampering, expiry, reuse, a wrong sha256 and an
 * oversize body with a precise problem.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type BlobStores, openBlobStores } from '../blobs/blob-stores.ts';
import { loadKey } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import type { DropletRun } from './build.tables.ts';
import * as uploads from './staged-upload.repository.ts';
import { parseDropletRun } from './staging-job.routes.ts';
import { ARCHIVE_SHA256_HEADER, DROPLET_RUN_HEADER, signStagingUrl, stagingUrlKey } from './staging-urls.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const RUN: DropletRun = { pathPrepend: ['.venv/bin'], pathEnv: { VIRTUAL_ENV: '.venv' } };
const runHeader = (run: unknown) => Buffer.from(JSON.stringify(run)).toString('base64url');

describe('staging Job URLs: the bundle fetch and the droplet upload', () => {
  let t: TestApp;
  let key: Buffer;
  let blobs: BlobStores;
  const bundle = randomBytes(3000);
  const base = 'http://cp.example';
  before(async () => {
    t = await testApp();
    key = stagingUrlKey(loadKey(join(t.config.dataDir, 'secret.key'), null, 'GOVHOST_SECRET_KEY'));
    blobs = openBlobStores({ kind: 'data-dir', dataDir: t.config.dataDir, db: t.db });
    await blobs.bundles.put(Readable.from([bundle]));
  });
  after(() => t.close());

  const path = (url: string) => {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  };
  const get = (url: string) => t.request(null, { method: 'GET', url: path(url) });
  const newUpload = async (maxBytes = 4096) => {
    const id = randomBytes(16).toString('hex');
    await uploads.insertUpload(t.db, { id, release_id: 'rel', max_bytes: maxBytes });
    return id;
  };
  const put = (url: string, body: Buffer | Readable, told: string, run: unknown = RUN) =>
    t.request(null, {
      method: 'PUT',
      url: path(url),
      headers: {
        'content-type': 'application/x-tar',
        [ARCHIVE_SHA256_HEADER]: told,
        [DROPLET_RUN_HEADER]: typeof run === 'string' ? run : runHeader(run),
      },
      payload: body,
    });

  it('serves the bundle without a token to a signed URL; its bytes are the stored ones', async () => {
    const res = await get(signStagingUrl(base, key, 'bundle', sha(bundle), 60));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/gzip');
    assert.equal(sha(res.rawPayload), sha(bundle));
  });

  it('refuses a tampered, foreign, expired or other-purpose bundle URL (403), an unknown bundle (404)', async () => {
    const other = 'e'.repeat(64);
    const good = signStagingUrl(base, key, 'bundle', sha(bundle), 60);
    const tampered = await get(good.replace(sha(bundle), other));
    assert.equal(tampered.statusCode, 403);
    assert.equal(tampered.json().code, 'GOVHOST_STAGING_URL_INVALID');
    const foreign = await get(signStagingUrl(base, Buffer.alloc(32, 1), 'bundle', sha(bundle), 60));
    assert.equal(foreign.json().code, 'GOVHOST_STAGING_URL_INVALID');
    const expired = await get(signStagingUrl(base, key, 'bundle', sha(bundle), 60, Date.now() - 120_000));
    assert.equal(expired.statusCode, 403);
    assert.equal(expired.json().code, 'GOVHOST_STAGING_URL_EXPIRED');
    // An upload URL's signature does not open a bundle of the same name.
    const upload = new URL(signStagingUrl(base, key, 'upload', sha(bundle), 60));
    const crossed = await get(`${base}/api/v1/bundles/${sha(bundle)}/archive${upload.search}`);
    assert.equal(crossed.json().code, 'GOVHOST_STAGING_URL_INVALID');
    const missing = await get(signStagingUrl(base, key, 'bundle', other, 60));
    assert.equal(missing.statusCode, 404);
    const unsigned = await t.request(null, { method: 'GET', url: `/api/v1/bundles/${sha(bundle)}/archive` });
    assert.equal(unsigned.statusCode, 400);
  });

  it('takes one upload per URL: stored under its sha256 with its run; a second upload is refused (409)', async () => {
    const id = await newUpload();
    const url = signStagingUrl(base, key, 'upload', id, 60);
    const archive = randomBytes(2048);
    const res = await put(url, archive, sha(archive));
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json(), { sha256: sha(archive), sizeBytes: 2048 });
    assert.deepEqual(await uploads.uploaded(t.db, id), {
      blobSha256: sha(archive),
      sizeBytes: 2048,
      run: RUN,
    });
    assert.ok(await blobs.droplets.has(sha(archive)));
    const again = await put(url, archive, sha(archive));
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'GOVHOST_STAGING_URL_USED');
  });

  it('refuses a wrong sha256 (422), and an oversize body (413) whether or not its length is declared', async () => {
    const archive = randomBytes(2048);
    const wrong = await put(
      signStagingUrl(base, key, 'upload', await newUpload(), 60),
      archive,
      'a'.repeat(64),
    );
    assert.equal(wrong.statusCode, 422);
    assert.equal(wrong.json().code, 'GOVHOST_DROPLET_SHA256_MISMATCH');
    assert.equal(wrong.json().sha256, sha(archive));
    const big = randomBytes(5000);
    const declared = await put(signStagingUrl(base, key, 'upload', await newUpload(), 60), big, sha(big));
    assert.equal(declared.statusCode, 413);
    assert.equal(declared.json().code, 'GOVHOST_DROPLET_TOO_LARGE');
    assert.equal(declared.json().maxBytes, 4096);
    const id = await newUpload();
    const streamed = await put(
      signStagingUrl(base, key, 'upload', id, 60),
      Readable.from([big.subarray(0, 2500), big.subarray(2500)]),
      sha(big),
    );
    assert.equal(streamed.statusCode, 413, streamed.body);
    assert.equal(streamed.json().code, 'GOVHOST_DROPLET_TOO_LARGE');
    assert.equal(await uploads.uploaded(t.db, id), null, 'nothing recorded for a refused upload');
  });

  it('refuses a tampered or expired upload URL (403), an unknown upload (404) and a malformed run (400)', async () => {
    const archive = randomBytes(100);
    const id = await newUpload();
    const tampered = await put(
      signStagingUrl(base, key, 'upload', id, 60).replace(id, randomBytes(16).toString('hex')),
      archive,
      sha(archive),
    );
    assert.equal(tampered.statusCode, 403);
    assert.equal(tampered.json().code, 'GOVHOST_STAGING_URL_INVALID');
    const expired = await put(
      signStagingUrl(base, key, 'upload', id, 60, Date.now() - 120_000),
      archive,
      sha(archive),
    );
    assert.equal(expired.json().code, 'GOVHOST_STAGING_URL_EXPIRED');
    const unknown = await put(
      signStagingUrl(base, key, 'upload', randomBytes(16).toString('hex'), 60),
      archive,
      sha(archive),
    );
    assert.equal(unknown.statusCode, 404);
    const escaping = await put(signStagingUrl(base, key, 'upload', id, 60), archive, sha(archive), {
      pathPrepend: ['../../bin'],
      pathEnv: {},
    });
    assert.equal(escaping.statusCode, 400);
    assert.match(escaping.json().detail, /x-govhost-droplet-run/);
    // Refused before the URL was taken: it still takes its one upload.
    const ok = await put(signStagingUrl(base, key, 'upload', id, 60), archive, sha(archive));
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('removes upload URLs a day old (their staging died), and only those', async () => {
    const old = await newUpload();
    const fresh = await newUpload();
    // The code never sets created_at (its type says so): only this test ages a row.
    await t.db
      .updateTable('staged_uploads')
      .set({ created_at: new Date(Date.now() - 90_000_000) } as never)
      .where('id', '=', old)
      .execute();
    assert.ok((await uploads.deleteStaleUploads(t.db, 86_400_000)) >= 1);
    const left = (await t.db.selectFrom('staged_uploads').select('id').execute()).map((r) => r.id);
    assert.ok(!left.includes(old) && left.includes(fresh));
  });

  it('reads a droplet run only in its shape, with relative paths', () => {
    assert.deepEqual(parseDropletRun(runHeader(RUN)), RUN);
    const start = { pathPrepend: [], pathEnv: {}, start: { script: 'node s.js', env: { A: 'b' } } };
    assert.deepEqual(parseDropletRun(runHeader(start)), start);
    assert.equal(parseDropletRun('not base64 json'), null);
    assert.equal(parseDropletRun(runHeader({ pathPrepend: ['/usr/bin'], pathEnv: {} })), null);
    assert.equal(parseDropletRun(runHeader({ pathPrepend: [], pathEnv: { A: 1 } })), null);
  });
});
