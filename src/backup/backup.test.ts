import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import * as tar from 'tar';
import { recordChange, verifyChain } from '../audit/audit.logic.ts';
import { openStore } from '../server/store.ts';
import { testDatabase } from '../test-support/database.ts';
import { createBackup, RestoreError, restoreBackup } from './backup.logic.ts';

type Handle = Awaited<ReturnType<typeof testDatabase>>;

/** An empty PostgreSQL database of its own (dropped after), for the postgres run's restores. */
async function emptyPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.GOVHOST_TEST_DATABASE_URL as string;
  const name = `govhost_restore_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

describe('backup and restore of the store, bundles and keys', () => {
  let store: Handle;
  const work = mkdtempSync(join(tmpdir(), 'govhost-backup-'));
  const archive = join(work, 'backup.tar.gz');
  const bundle = `${'a'.repeat(64)}.tar.gz`;

  before(async () => {
    store = await testDatabase();
    for (let i = 0; i < 3; i++) {
      await recordChange(
        store.db,
        { actorId: null, actorName: 'test', requestId: null },
        { action: 'test.change', targetType: 'thing', targetId: `t${i}`, departmentId: null },
      );
    }
    mkdirSync(join(store.dataDir, 'bundles'), { recursive: true });
    writeFileSync(join(store.dataDir, 'bundles', bundle), 'bundle bytes');
    writeFileSync(join(store.dataDir, 'bundles', '.upload-123.tmp'), 'half an upload');
    writeFileSync(join(store.dataDir, 'secret.key'), 'the secret key', { mode: 0o600 });
    await pipeline(await createBackup(store, store.dataDir), createWriteStream(archive));
  });
  after(async () => {
    await store.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('the archive lists each file with its checksum, and marks the keys as secret', async () => {
    const names: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => names.push(e.path) });
    assert.ok(names.includes('govhost-backup/manifest.json'));
    assert.ok(names.includes(`govhost-backup/bundles/${bundle}`));
    assert.ok(names.includes('govhost-backup/keys/secret.key'));
    assert.ok(!names.some((n) => n.includes('.upload-')), 'a half-made upload is not a bundle');
    assert.ok(names.some((n) => /store\/(pgdata\.tar\.gz|postgres\.dump)$/.test(n)));
    // Its staging folder is gone once the archive has been read.
    assert.deepEqual(
      (await import('node:fs')).readdirSync(store.dataDir).filter((n) => n.startsWith('.backup-')),
      [],
    );
  });

  test('restored into an empty folder: the store with its audit chain, the bundles, the keys', async () => {
    const dataDir = join(work, 'restored');
    const target = store.kind === 'postgres' ? await emptyPostgres() : null;
    try {
      const manifest = await restoreBackup({ archive, dataDir, databaseUrl: target?.url ?? null });
      assert.deepEqual(manifest.secret, ['keys/secret.key', 'keys/audit.key']);
      assert.equal(readFileSync(join(dataDir, 'bundles', bundle), 'utf8'), 'bundle bytes');
      assert.equal(readFileSync(join(dataDir, 'secret.key'), 'utf8'), 'the secret key');
      // The audit chain's key comes back too: without it the restored chain would not verify.
      assert.equal(
        readFileSync(join(dataDir, 'audit.key'), 'utf8'),
        readFileSync(join(store.dataDir, 'audit.key'), 'utf8'),
      );
      const restored = await openStore({ databaseUrl: target?.url ?? null, dataDir });
      try {
        const v = await verifyChain(restored.db);
        assert.equal(v.ok, true);
        assert.equal(v.records, (await verifyChain(store.db)).records);
        assert.ok(v.records >= 3);
      } finally {
        await restored.close();
      }
      // A folder that now holds a platform is not restored over.
      await assert.rejects(
        restoreBackup({ archive, dataDir, databaseUrl: target?.url ?? null }),
        (err: unknown) => err instanceof RestoreError && /already holds a platform/.test(err.message),
      );
    } finally {
      await target?.drop();
    }
  });

  test('an archive that was altered, is not a backup, or holds the other kind of store is refused', async () => {
    // One byte of the bundle changed after the manifest was written.
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    await tar.x({ file: archive, cwd: unpacked });
    writeFileSync(join(unpacked, 'govhost-backup', 'bundles', bundle), 'bundle bytez');
    const altered = join(work, 'altered.tar.gz');
    await tar.c({ gzip: true, file: altered, cwd: unpacked }, ['govhost-backup']);
    await assert.rejects(
      restoreBackup({ archive: altered, dataDir: join(work, 'r1'), databaseUrl: null }),
      /bundles\/a+\.tar\.gz is missing from the backup or does not match its manifest/,
    );
    const junk = join(work, 'junk.tar.gz');
    writeFileSync(junk, 'not an archive');
    await assert.rejects(
      restoreBackup({ archive: junk, dataDir: join(work, 'r2'), databaseUrl: null }),
      (err: unknown) => err instanceof RestoreError && /is not a GovHost backup/.test(err.message),
    );
    const other = store.kind === 'pglite' ? 'postgres://nobody@127.0.0.1:1/none' : null;
    await assert.rejects(
      restoreBackup({ archive, dataDir: join(work, 'r3'), databaseUrl: other }),
      (err: unknown) => err instanceof RestoreError && /holds a (pglite|postgres) store/.test(err.message),
    );
  });
});
