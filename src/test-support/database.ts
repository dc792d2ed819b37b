import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseHandle } from '../platform/database.ts';
import { migrateToLatest } from '../server/migrations.ts';
import { openStore } from '../server/store.ts';

/**
 * Which store this test run uses: `pglite` (default) or `postgres`, set by scripts/test.mjs,
 * which runs the database suites once on each.
 */
export const TEST_STORE = process.env.GOVHOST_TEST_STORE === 'postgres' ? 'postgres' : 'pglite';

/** PostgreSQL server for the postgres run: a URL whose user may create databases. */
const adminUrl = () => {
  const url = process.env.GOVHOST_TEST_DATABASE_URL;
  if (!url) throw new Error('GOVHOST_TEST_STORE=postgres needs GOVHOST_TEST_DATABASE_URL');
  return url;
};

/**
 * ` template <name>` when scripts/test.mjs made a migrated template database for this run: a copy
 * takes about 0.5 s where running every migration again takes 1.5-2 s, in each of some 60 files.
 * The migrations still run below, and find nothing to do.
 */
function pgTemplate(): string {
  const name = process.env.GOVHOST_TEST_PG_TEMPLATE;
  if (!name) return '';
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`GOVHOST_TEST_PG_TEMPLATE: not a database name: ${name}`);
  return ` template ${name}`;
}

/**
 * A migrated, empty database of its own for one test file: a copy of the migrated PGlite template
 * that scripts/test.mjs made (about 1 s instead of 5 s for a new PGlite), or a new PostgreSQL
 * database that is dropped again on close.
 */
export async function testDatabase(): Promise<DatabaseHandle & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'govhost-test-'));
  if (TEST_STORE === 'postgres') {
    const name = `govhost_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`create database ${name}${pgTemplate()}`);
    await admin.end();
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    const handle = await openStore({ databaseUrl: url.toString(), dataDir });
    await migrateToLatest(handle.db);
    return {
      ...handle,
      dataDir,
      close: async () => {
        await handle.close();
        const c = new pg.Client({ connectionString: adminUrl() });
        await c.connect();
        // FORCE ends the database's other backends, autovacuum's included: the role needs
        // pg_signal_backend for that (`.ci/run` grants it).
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const template = process.env.GOVHOST_TEST_PGLITE_TEMPLATE;
  if (template) cpSync(template, dataDir, { recursive: true });
  const handle = await openStore({ databaseUrl: null, dataDir });
  await migrateToLatest(handle.db);
  return {
    ...handle,
    dataDir,
    close: async () => {
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
