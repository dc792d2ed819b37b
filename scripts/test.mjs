#!/usr/bin/env node
// Runs every test file with node's test runner: all of them on PGlite, then the database suites
// again on PostgreSQL when GOVHOST_TEST_DATABASE_URL names a server (CI's .ci/run starts one).
// Usage: npm test [-- path-filter ...]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// The TypeScript loader (docs/decisions/053): for this process, and for every test file's.
const tsLoader = new URL('../bin/ts-loader.mjs', import.meta.url).href;
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = ['src', 'test']
  .flatMap((d) => {
    try {
      return findTests(join(root, d));
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((flt) => relative(root, f).includes(flt)))
  .sort();
// Two files run at a time, taken in this order. A long suite taken last keeps one lane busy while
// the other idles (the README's walk-through alone takes minutes), so suites that say about how
// long they take (`// test-seconds: N`, on a line of their own, measured in CI) start first,
// longest first; the rest follow in name order.
const secondsOf = (f) => Number(/^\/\/ test-seconds: (\d+)$/m.exec(readFileSync(f, 'utf8'))?.[1] ?? 0);
const seconds = new Map(files.map((f) => [f, secondsOf(f)]));
files.sort((a, b) => seconds.get(b) - seconds.get(a));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Suites that take a store from test-support run once per store; the rest run once. The CLI's
// suites drive the API through `govhost` processes: what they add is the CLI, which does not
// change with the store, and the API under them has its own suites on both stores. A suite that
// says `// test-store: once` on a line of its own runs on PGlite only: its subject does not change
// with the store either, and a second pass would cost minutes (the API fuzzer).
const usesStore = (f) => {
  const source = readFileSync(f, 'utf8');
  return (
    !relative(root, f).startsWith(`src${sep}cli${sep}`) &&
    /\b(testApp|testDatabase)\(/.test(source) &&
    !/^\/\/ test-store: once$/m.test(source)
  );
};

// A suite that says `// test-store: postgres` is about several processes sharing one PostgreSQL
// (control-plane replicas): it runs in the PostgreSQL pass only, and in the PGlite pass when there
// is no PostgreSQL, where it says why it skips.
const postgresOnly = (f) => /^\/\/ test-store: postgres$/m.test(readFileSync(f, 'utf8'));

const work = mkdtempSync(join(tmpdir(), 'govhost-testrun-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** A migrated PGlite data folder that each test file copies: much faster than a new one each. */
async function makeTemplate() {
  await import(tsLoader);
  const { openStore } = await import('../src/server/store.ts');
  const { migrateToLatest } = await import('../src/server/migrations.ts');
  const dir = join(work, 'pglite-template');
  const handle = await openStore({ databaseUrl: null, dataDir: dir });
  await migrateToLatest(handle.db);
  await handle.close();
  return dir;
}

/**
 * The same for the PostgreSQL pass: a migrated database that each test file's database is made
 * from (`create database … template`). It takes no connections once made, autovacuum's included,
 * so that a copy never waits for one to end. Dropped by the returned function.
 */
async function makePgTemplate(url) {
  const { default: pg } = await import('pg');
  const { openStore } = await import('../src/server/store.ts');
  const { migrateToLatest } = await import('../src/server/migrations.ts');
  const name = `govhost_template_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const at = new URL(url);
    at.pathname = `/${name}`;
    const handle = await openStore({ databaseUrl: at.toString(), dataDir: join(work, 'pg-template') });
    await migrateToLatest(handle.db);
    await handle.close();
    await admin.query(`alter database ${name} with is_template true allow_connections false`);
  } finally {
    await admin.end();
  }
  const drop = async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`alter database ${name} with is_template false`);
    await c.query(`drop database if exists ${name}`);
    await c.end();
  };
  return { name, drop };
}

/**
 * The failed tests of a TAP report with their location and error, trimmed: printed again at the
 * very end, so that whoever reads only the tail of a long CI log still sees why it failed.
 */
function failuresOf(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const block = [];
    for (let j = i + 1; j < lines.length && lines[j].startsWith(`${m[1]}  `); j++) {
      if (lines[j].trim() === '...') break;
      block.push(lines[j].slice(m[1].length + 2));
    }
    // A suite fails because its tests did: those are listed themselves.
    if (block.some((l) => /^failureType: '(subtestsFailed)'/.test(l))) continue;
    const stack = block.findIndex((l) => l.startsWith('stack:'));
    const kept = (stack < 0 ? block : block.slice(0, stack + 4)).filter(
      (l) => !/^(---|duration_ms:|type:)/.test(l),
    );
    out.push(
      `✖ ${m[2]}\n${kept
        .slice(0, 40)
        .map((l) => `    ${l}`)
        .join('\n')}`,
    );
  }
  return out;
}

function runPass(name, passFiles, env) {
  // node --test with no file would run every test it can find.
  if (passFiles.length === 0)
    return Promise.resolve({ name, code: 0, pass: 0, fail: 0, skip: 0, failures: [] });
  const tap = join(work, `${name}.tap`);
  console.log(`\n=== ${name}: ${passFiles.length} test files ===`);
  const args = [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...passFiles,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        ...env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${tsLoader}`.trim(),
      },
    });
    child.on('exit', (code) => {
      const text = readFileSync(tap, 'utf8');
      const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      resolve({
        name,
        failures: failuresOf(text),
        code: code ?? 1,
        pass: count('pass'),
        fail: count('fail') + count('cancelled'),
        skip: count('skipped'),
      });
    });
  });
}

/**
 * As root, every platform a test starts makes real OS users for its services. They are named with
 * a prefix of this run's own (test-support's cleanEnv passes it on), so that they are removed at
 * the end whatever a test did, and never those of a run beside this one.
 */
const userPrefix = `ght${randomBytes(2).toString('hex')}-`;
function removeRunUsers() {
  if (process.getuid?.() !== 0) return;
  const run = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return null;
    }
  };
  const removed = new Set();
  for (const line of (run('getent', ['passwd']) ?? '').split('\n')) {
    const [name, , uid, , owner] = line.split(':');
    if (!name?.startsWith(userPrefix) || !owner?.startsWith('GovHost ')) continue;
    // userdel takes the user's own group along; groupdel is for one left by a failed useradd.
    run('userdel', [name]);
    run('groupdel', [name]);
    removed.add(Number(uid));
  }
  // A platform a test killed (SIGKILL) leaves its nftables table: removed when every uid it
  // limits was one of this run's, so no later user given such a uid is limited by it.
  for (const table of (run('nft', ['list', 'tables']) ?? '').matchAll(/^table inet (govhost_[0-9a-f]+)$/gm)) {
    const set = run('nft', ['list', 'set', 'inet', table[1], 'service_uids']) ?? '';
    const uids =
      /elements = \{([^}]*)\}/
        .exec(set)?.[1]
        ?.split(',')
        .map((u) => Number(u.trim())) ?? [];
    if (uids.length > 0 && uids.every((u) => removed.has(u)))
      run('nft', ['delete', 'table', 'inet', table[1]]);
  }
}
process.on('exit', removeRunUsers);

const pgUrl = process.env.GOVHOST_TEST_DATABASE_URL;
const template = await makeTemplate();
const results = [
  await runPass('PGlite', pgUrl ? files.filter((f) => !postgresOnly(f)) : files, {
    GOVHOST_TEST_STORE: 'pglite',
    GOVHOST_TEST_PGLITE_TEMPLATE: template,
    GOVHOST_TEST_SERVICE_USER_PREFIX: userPrefix,
    GOVHOST_TEST_WORK_DIR: work,
  }),
];
const storeFiles = files.filter((f) => usesStore(f) || postgresOnly(f));
if (pgUrl && storeFiles.length > 0) {
  const pgTemplate = await makePgTemplate(pgUrl);
  try {
    results.push(
      await runPass('PostgreSQL', storeFiles, {
        GOVHOST_TEST_STORE: 'postgres',
        GOVHOST_TEST_PG_TEMPLATE: pgTemplate.name,
        GOVHOST_TEST_SERVICE_USER_PREFIX: userPrefix,
        GOVHOST_TEST_WORK_DIR: work,
      }),
    );
  } finally {
    await pgTemplate.drop();
  }
} else if (!pgUrl) {
  console.log(
    '\nPostgreSQL pass skipped: set GOVHOST_TEST_DATABASE_URL to a server where this user may create databases.',
  );
}
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const failed = results.some((r) => r.code !== 0) || sum('fail') > 0;
for (const r of results) {
  if (r.failures.length === 0) continue;
  console.log(`\n=== ${r.name}: ${r.failures.length} failed ===`);
  for (const f of r.failures) console.log(f);
}
console.log(`\n${sum('pass')} passed, ${sum('fail')} failed, ${sum('skip')} skipped`);
process.exit(failed ? 1 : 0);
