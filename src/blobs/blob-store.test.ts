// Both blob stores against the same checks: the data folder, and PostgreSQL (PGlite here, and a
// real PostgreSQL when the test run has GOVHOST_TEST_DATABASE_URL).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createBuild } from '../build/build.logic.ts';
import { NO_CACHE } from '../build/dependency-cache.ts';
import { insertDroplet } from '../build/droplet.repository.ts';
import { archiveDroplet, dropletDir } from '../build/droplet-store.ts';
import { localDroplet } from '../build/stager.ts';
import { DomainError } from '../platform/errors.ts';
import { testDatabase } from '../test-support/database.ts';
import type { BlobStore } from './blob-store.ts';
import { openBlobStores } from './blob-stores.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { CHUNK_BYTES, PgBlobStore } from './pg-blob-store.ts';

type Handle = Awaited<ReturnType<typeof testDatabase>>;

/** `bytes` as an upload would send them: in pieces of 64 KiB. */
const pieces = (bytes: Buffer) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
    })(),
  );

const corrupt = (key: string) => (err: unknown) => {
  assert.ok(err instanceof DomainError, String(err));
  assert.equal(err.code, 'GOVHOST_BLOB_CORRUPT');
  assert.ok(err.message.includes(key), err.message);
  return true;
};

describe('blob stores', () => {
  let h: Handle;
  let stores: { name: string; store: BlobStore; damage(sha: string): Promise<void> }[];
  // A little over 3.5 chunks: the last chunk is short.
  const big = randomBytes(3 * CHUNK_BYTES + CHUNK_BYTES / 2 + 7);

  before(async () => {
    h = await testDatabase();
    const fs = new FsBlobStore(join(h.dataDir, 'fs-blobs'), '.tar.gz');
    const pg = new PgBlobStore(h.db, 'bundle', join(h.dataDir, 'cache'), '.tar.gz');
    stores = [
      {
        name: 'data folder',
        store: fs,
        async damage(sha) {
          const f = await open(fs.path(sha), 'r+');
          await f.write(Buffer.from([0xff ^ big[CHUNK_BYTES + 1]!]), 0, 1, CHUNK_BYTES + 1);
          await f.close();
        },
      },
      {
        name: 'postgres',
        store: pg,
        async damage(sha) {
          // One byte of the second chunk changed, as a bad disk under the database might.
          await sql`update blob_chunks set data = set_byte(data, 1, (get_byte(data, 1) + 1) % 256)
                    where n = 1 and upload_id = (select upload_id from blobs where sha256 = ${sha})`.execute(
            h.db,
          );
        },
      },
    ];
  });
  after(() => h.close());

  it('round-trips a blob of several chunks, as a stream both ways', async () => {
    for (const { name, store } of stores) {
      const put = await store.put(pieces(big));
      assert.equal(put.sizeBytes, big.length, name);
      assert.ok(await store.has(put.sha256), name);
      assert.ok((await store.list()).includes(put.sha256), name);
      assert.ok((await buffer(await store.get(put.sha256))).equals(big), `${name}: bytes differ`);
      assert.ok((await readFile(await store.file(put.sha256))).equals(big), `${name}: file differs`);
    }
    const chunks = await h.db.selectFrom('blob_chunks').select(['n']).execute();
    assert.deepEqual(chunks.map((c) => c.n).sort(), [0, 1, 2, 3], 'four chunks of at most 1 MiB');
  });

  it('refuses a corrupted blob, naming its key, on both stores', async () => {
    for (const { name, store, damage } of stores) {
      const bytes = randomBytes(2 * CHUNK_BYTES + 100);
      const { sha256 } = await store.put(pieces(bytes));
      await damage(sha256);
      await assert.rejects(async () => buffer(await store.get(sha256)), corrupt(sha256), name);
      await assert.rejects(store.file(sha256), corrupt(sha256), name);
    }
    // No damaged copy was left in the local cache for a later read to take.
    const cached = await readdir(join(h.dataDir, 'cache')).catch(() => []);
    assert.ok(!cached.some((n) => n.startsWith('.fetch-')), String(cached));
  });

  it('fetches a verified copy again when the local cache holds a damaged one', async () => {
    const pg = stores[1]!.store;
    const bytes = randomBytes(1000);
    const { sha256 } = await pg.put(pieces(bytes));
    const path = await pg.file(sha256);
    await writeFile(path, 'not the bytes');
    assert.equal(await pg.file(sha256), path);
    assert.ok((await readFile(path)).equals(bytes));
  });

  it('stores the same blob put concurrently once', async () => {
    for (const { name, store } of stores) {
      const bytes = randomBytes(CHUNK_BYTES + 5);
      const puts = await Promise.all([1, 2, 3, 4].map(() => store.put(pieces(bytes))));
      assert.equal(new Set(puts.map((p) => p.sha256)).size, 1, name);
      assert.ok((await buffer(await store.get(puts[0]!.sha256))).equals(bytes), name);
    }
    const fsNames = await readdir(join(h.dataDir, 'fs-blobs'));
    assert.ok(!fsNames.some((n) => n.startsWith('.upload-')), `temp files left: ${fsNames}`);
    // Only the winning put's chunks stay: every chunk belongs to a blob.
    const orphans = await sql<{ n: number }>`select count(*)::int as n from blob_chunks c
      where not exists (select 1 from blobs b where b.upload_id = c.upload_id)`.execute(h.db);
    assert.equal(orphans.rows[0]!.n, 0);
  });

  it('makes a blob young again when it is put again, so the collector spares it', async () => {
    const hour = 3_600_000;
    const twoHoursAgo = new Date(Date.now() - 2 * hour);
    for (const { name, store } of stores) {
      const bytes = randomBytes(100);
      const { sha256 } = await store.put(pieces(bytes));
      // Stored two hours ago and named by nothing since: the collector may take it.
      if (store instanceof FsBlobStore) await utimes(store.path(sha256), twoHoursAgo, twoHoursAgo);
      else await sql`update blobs set created_at = ${twoHoursAgo} where sha256 = ${sha256}`.execute(h.db);
      assert.ok((await store.list(hour)).includes(sha256), `${name}: aged`);
      // A new release names it again: its put finds it stored, and it must count as young.
      await store.put(pieces(bytes));
      assert.ok(!(await store.list(hour)).includes(sha256), `${name}: still old after a second put`);
      assert.ok((await store.list()).includes(sha256), name);
      assert.ok((await buffer(await store.get(sha256))).equals(bytes), name);
    }
  });

  it('deletes blobs, and sweeps what an interrupted put left', async () => {
    for (const { name, store } of stores) {
      const { sha256 } = await store.put(pieces(randomBytes(10)));
      await store.delete(sha256);
      assert.equal(await store.has(sha256), false, name);
      await assert.rejects(
        store.get(sha256),
        (err: unknown) => (err as DomainError).code === 'GOVHOST_BLOB_NOT_FOUND',
      );
    }
    await sql`insert into blob_chunks (upload_id, n, data, created_at)
              values (gen_random_uuid(), 0, '\\x00', now() - interval '2 hours'),
                     (gen_random_uuid(), 0, '\\x00', now())`.execute(h.db);
    assert.equal(await stores[1]!.store.sweep(), 1, 'only the stale orphan chunk goes');
  });

  it('collects the droplets and bundles no release names, on either store', async () => {
    for (const kind of ['data-dir', 'postgres'] as const) {
      const dataDir = join(h.dataDir, `collect-${kind}`);
      const blobs = openBlobStores({ kind, dataDir, db: h.db });
      const deps = {
        db: h.db,
        blobs,
        dropletsDir: join(dataDir, 'droplets'),
        logsDir: join(dataDir, 'logs'),
        scratchDir: join(dataDir, 'scratch'),
        settings: { npmRegistry: null, pipIndexUrl: null, python: '/usr/bin/python3' },
        limits: { memoryMb: 64, cpus: 1, timeoutSec: 1, diskMb: 16 },
        limiter: null,
        cache: NO_CACHE,
      };
      const build = createBuild(deps);
      // A droplet as staging leaves it: its folder (this host's cache) and its archive.
      const key = randomBytes(32).toString('hex');
      await mkdir(join(dropletDir(deps.dropletsDir, key), 'lib'), { recursive: true });
      await writeFile(join(dropletDir(deps.dropletsDir, key), 'lib', 'app.js'), 'hello');
      const archive = await archiveDroplet(blobs.droplets, dropletDir(deps.dropletsDir, key));
      const bundle = await blobs.bundles.put(pieces(randomBytes(100)));
      await insertDroplet(h.db, {
        sha256: key,
        bundle_sha256: bundle.sha256,
        builder: 'node',
        runtime_version: 'node 20',
        kind: 'process',
        command: null,
        run: { pathPrepend: [], pathEnv: {} },
        size_bytes: 5,
        staging_seconds: 0,
        blob_sha256: archive.sha256,
      });
      // Another host (or this one, its cache emptied) unpacks it from the store.
      await import('node:fs/promises').then((f) => f.rm(deps.dropletsDir, { recursive: true }));
      assert.equal(await localDroplet(deps, { sha256: key, blob_sha256: archive.sha256 }), true);
      assert.equal(await readFile(join(dropletDir(deps.dropletsDir, key), 'lib', 'app.js'), 'utf8'), 'hello');
      assert.ok((await stat(dropletDir(deps.dropletsDir, key))).isDirectory());
      // An unused bundle stored just now stays: another replica may be about to record its release.
      const fresh = await build.collect();
      assert.ok(fresh.droplets >= 1, `${kind}: ${JSON.stringify(fresh)}`);
      assert.equal(await blobs.bundles.has(bundle.sha256), true, `${kind}: ${JSON.stringify(fresh)}`);
      // An hour on, no release names either: both go, with the droplet's row and its folder.
      const anHourAgo = new Date(Date.now() - 3_700_000);
      if (kind === 'data-dir') {
        await utimes(join(dataDir, 'bundles', `${bundle.sha256}.tar.gz`), anHourAgo, anHourAgo);
      } else {
        await sql`update blobs set created_at = ${anHourAgo} where sha256 = ${bundle.sha256}`.execute(h.db);
      }
      const n = await build.collect();
      assert.ok(n.bundles >= 1, `${kind}: ${JSON.stringify(n)}`);
      assert.equal(await blobs.droplets.has(archive.sha256), false, kind);
      assert.equal(await blobs.bundles.has(bundle.sha256), false, kind);
      assert.equal(await build.droplet(key), null, kind);
      assert.deepEqual(await readdir(deps.dropletsDir), [], kind);
    }
  });
});
