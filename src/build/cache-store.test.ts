// The dependency cache's store on a real file system: entries per department, copies (never links)
// handed out, platform-only modes, and least-recently-used eviction past the size bound.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCacheStore } from './cache-store.ts';
import type { CacheKey } from './dependency-cache.ts';

const key = (departmentId: string, inputsSha256: string): CacheKey => ({
  departmentId,
  builder: 'node',
  inputsSha256,
  runtimeVersion: 'node 20 npm 11',
});

describe('dependency cache store', () => {
  let work: string;
  let serial = 0;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'govhost-cache-store-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** An installed folder of `bytes` bytes (one package, one executable). */
  async function install(bytes: number): Promise<string> {
    const dir = join(work, `install-${++serial}`);
    await mkdir(join(dir, 'pkg', '.bin'), { recursive: true });
    await writeFile(join(dir, 'pkg', 'index.js'), 'x'.repeat(bytes));
    await writeFile(join(dir, 'pkg', '.bin', 'tool'), '#!/bin/sh\n', { mode: 0o777 });
    return dir;
  }

  it('restores a kept install as a copy, for its own department only, in platform modes', async () => {
    const cache = createCacheStore({ dir: join(work, 'c1'), maxBytes: 1_000_000 });
    assert.equal(await cache.restore(key('dept-a', 'l1'), join(work, 'none')), false);
    await cache.keep(key('dept-a', 'l1'), await install(10));
    // Another department with the very same lockfile misses: entries are never shared.
    assert.equal(await cache.restore(key('dept-b', 'l1'), join(work, 'b')), false);
    const dest = join(work, 'restored');
    assert.equal(await cache.restore(key('dept-a', 'l1'), dest), true);
    assert.equal(await readFile(join(dest, 'pkg', 'index.js'), 'utf8'), 'x'.repeat(10));
    // A write to the copy leaves the entry as it was (a copy, not a hard link).
    await writeFile(join(dest, 'pkg', 'index.js'), 'changed by the build');
    const entry = join(cache.entryDir(key('dept-a', 'l1')), 'files');
    assert.equal(await readFile(join(entry, 'pkg', 'index.js'), 'utf8'), 'x'.repeat(10));
    assert.equal((await stat(join(entry, 'pkg', 'index.js'))).nlink, 1);
    // Written by the platform: folders 0755, files 0644 or 0755, under a private folder.
    assert.equal((await stat(join(entry, 'pkg'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(entry, 'pkg', 'index.js'))).mode & 0o7777, 0o644);
    assert.equal((await stat(join(entry, 'pkg', '.bin', 'tool'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(work, 'c1'))).mode & 0o777, 0o700);
  });

  it('evicts the least recently used entries once past its size bound', async () => {
    const dir = join(work, 'c2');
    const evicted: string[] = [];
    const cache = createCacheStore({ dir, maxBytes: 2500, onEvict: (e) => evicted.push(e.entry) });
    await cache.keep(key('a', 'one'), await install(1000));
    await cache.keep(key('b', 'two'), await install(1000));
    // `one` is used after `two` was kept: `two` is now the least recently used.
    const past = new Date(Date.now() - 60_000);
    await utimes(cache.entryDir(key('b', 'two')), past, past);
    assert.equal(await cache.restore(key('a', 'one'), join(work, 'r2')), true);
    await cache.keep(key('a', 'three'), await install(1000));
    assert.equal(evicted.length, 1);
    assert.equal(await cache.restore(key('b', 'two'), join(work, 'r3')), false);
    assert.equal(await cache.restore(key('a', 'one'), join(work, 'r4')), true);
    assert.equal(await cache.restore(key('a', 'three'), join(work, 'r5')), true);
    const sizes = await cache.entries();
    assert.ok(sizes.reduce((n, e) => n + e.bytes, 0) <= 2500);
    // An install larger than the whole bound is not kept at all.
    await cache.keep(key('a', 'huge'), await install(5000));
    assert.equal(await cache.restore(key('a', 'huge'), join(work, 'r6')), false);
    assert.deepEqual(
      (await readdir(dir)).filter((e) => e.startsWith('.tmp-')),
      [],
    );
  });

  it('keeps nothing when its bound is 0', async () => {
    const cache = createCacheStore({ dir: join(work, 'c3'), maxBytes: 0 });
    await cache.keep(key('a', 'x'), await install(10));
    assert.equal(await cache.restore(key('a', 'x'), join(work, 'r7')), false);
  });
});
