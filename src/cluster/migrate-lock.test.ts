import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { migrateToLatest } from '../server/migrations.ts';
import { openStore } from '../server/store.ts';
import { TEST_STORE } from '../test-support/database.ts';
import { checkSharedKey } from './shared-keys.ts';

const url = process.env.GOVHOST_TEST_DATABASE_URL;
const skip =
  TEST_STORE !== 'postgres' || !url ? 'replicas share a PostgreSQL: set GOVHOST_TEST_DATABASE_URL' : false;

describe('replicas starting together on one PostgreSQL', { skip }, () => {
  it('migrate one at a time, and a replica with another key is refused', async () => {
    // testDatabase() would migrate it: this test needs an empty database.
    const name = `govhost_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const u = new URL(url!);
    u.pathname = `/${name}`;
    const dir = mkdtempSync(join(tmpdir(), 'govhost-test-'));
    const stores = await Promise.all(
      [1, 2, 3].map((i) => openStore({ databaseUrl: u.toString(), dataDir: join(dir, String(i)) })),
    );
    try {
      const applied = await Promise.all(stores.map((s) => migrateToLatest(s.db)));
      // One replica applied every migration, the others found nothing left to do.
      const sizes = applied.map((a) => a.length).sort((a, b) => a - b);
      assert.deepEqual(sizes.slice(0, 2), [0, 0]);
      assert.ok(sizes[2]! > 20);
      const key = randomBytes(32);
      await checkSharedKey(stores[0]!.db, 'secret', key, 'GOVHOST_SECRET_KEY');
      await checkSharedKey(stores[1]!.db, 'secret', key, 'GOVHOST_SECRET_KEY');
      await assert.rejects(
        checkSharedKey(stores[2]!.db, 'secret', randomBytes(32), 'GOVHOST_SECRET_KEY'),
        /secret key differs from the one the other control-plane processes .*GOVHOST_SECRET_KEY/,
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
