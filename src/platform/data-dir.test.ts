import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeDataDirPrivate } from './data-dir.ts';

const root = mkdtempSync(join(tmpdir(), 'govhost-datadir-'));
const before = process.umask();
after(() => {
  process.umask(before);
  rmSync(root, { recursive: true, force: true });
});

const mode = (p: string) => statSync(p).mode & 0o7777;

test('an open data folder is made private at start, its working copies left to the runtime', () => {
  const data = join(root, 'open');
  // As PGlite left it before: files 0666 in folders 0755 under a 0755 data folder.
  mkdirSync(join(data, 'pgdata', 'pg_wal'), { recursive: true });
  mkdirSync(join(data, 'apps', 'svc'), { recursive: true });
  writeFileSync(join(data, 'pgdata', 'pg_wal', '000000010000000000000001'), 'wal');
  writeFileSync(join(data, 'apps', 'svc', 'server.js'), '');
  for (const [p, m] of [
    [data, 0o755],
    [join(data, 'pgdata'), 0o755],
    [join(data, 'pgdata', 'pg_wal'), 0o755],
    [join(data, 'pgdata', 'pg_wal', '000000010000000000000001'), 0o4666],
    [join(data, 'apps', 'svc', 'server.js'), 0o644],
  ] as const) {
    chmodSync(p, m);
  }

  const repaired = makeDataDirPrivate(data, null);

  assert.equal(repaired, 4, 'the data folder, pgdata, pg_wal and the WAL segment');
  const asRoot = process.getuid?.() === 0;
  assert.equal(mode(data), asRoot ? 0o711 : 0o700, 'others may only pass through to apps/, as root');
  assert.equal(mode(join(data, 'pgdata')), 0o700);
  assert.equal(mode(join(data, 'pgdata', 'pg_wal', '000000010000000000000001')), 0o600, 'no setuid either');
  assert.equal(mode(join(data, 'apps', 'svc', 'server.js')), 0o644, "a service's own files are not touched");
  assert.equal(process.umask(), 0o077, 'what the platform makes next is private too');
  writeFileSync(join(data, 'new'), '');
  assert.equal(mode(join(data, 'new')), 0o600);
  assert.equal(makeDataDirPrivate(data, null), 0, 'a healthy folder needs no repair, so nothing is logged');
});

test('the data folder is 0700 when the working copies live elsewhere', () => {
  const data = join(root, 'elsewhere');
  assert.equal(makeDataDirPrivate(data, join(root, 'apps-elsewhere')), 0);
  assert.equal(mode(data), 0o700);
});
