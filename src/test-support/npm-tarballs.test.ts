import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { list } from 'tar';
import { dependencyTree, integrityOf, manifestOf, projectPackageTree } from './npm-tarballs.ts';

const LOCK = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'));

async function entriesOf(file: string): Promise<string[]> {
  const paths: string[] = [];
  await list({ file, onReadEntry: (e) => paths.push(e.path) });
  return paths;
}

describe('npm tarballs of the project', () => {
  it('follows dependencies as node resolves them: nested folders first, then up the tree', () => {
    const lock = {
      packages: {
        '': {},
        'node_modules/app': { version: '1.0.0', dependencies: { a: '^2', b: '^1' } },
        'node_modules/app/node_modules/a': { version: '2.0.0', dependencies: { b: '^1', c: '^1' } },
        'node_modules/a': { version: '1.0.0' },
        'node_modules/b': { version: '1.1.0', optionalDependencies: { gone: '^1' } },
        'node_modules/c': {
          version: '1.0.0',
          peerDependencies: { b: '^1', opt: '^1' },
          peerDependenciesMeta: { opt: { optional: true } },
        },
        'node_modules/unrelated': { version: '1.0.0' },
      },
    };
    assert.deepEqual(dependencyTree(lock, 'app'), [
      'node_modules/app',
      'node_modules/app/node_modules/a',
      'node_modules/b',
      'node_modules/c',
    ]);
    assert.throws(() => dependencyTree(lock, 'absent'), /absent is not in the project's package-lock.json/);
    const broken = { packages: { 'node_modules/x': { version: '1.0.0', dependencies: { y: '^1' } } } };
    assert.throws(() => dependencyTree(broken, 'x'), /node_modules\/x needs y/);
  });

  it("gives the original tarballs from npm's cache, matching the lockfile's integrity", async () => {
    const tree = await projectPackageTree('express');
    const express = tree.find((t) => t.name === 'express')!;
    assert.equal(express.version, LOCK.packages['node_modules/express'].version);
    for (const t of tree) {
      assert.equal(t.repacked, false, `${t.name}@${t.version} is not in npm's cache: run npm ci`);
      assert.equal(integrityOf(await readFile(t.file)), t.integrity);
    }
    assert.equal((await manifestOf(express.file)).name, 'express');
  });

  it("packs the installed folder, without its node_modules, when npm's cache lacks a tarball", async () => {
    const empty = await mkdtemp(join(tmpdir(), 'govhost-empty-npm-cache-'));
    const saved = process.env.npm_config_cache;
    process.env.npm_config_cache = empty;
    try {
      const tree = await projectPackageTree('express');
      assert.ok(tree.every((t) => t.repacked));
      const express = tree.find((t) => t.name === 'express')!;
      assert.notEqual(express.integrity, LOCK.packages['node_modules/express'].integrity);
      assert.equal(integrityOf(await readFile(express.file)), express.integrity);
      const manifest = await manifestOf(express.file);
      assert.deepEqual([manifest.name, manifest.version], ['express', express.version]);
      const paths = await entriesOf(express.file);
      assert.ok(paths.includes('package/package.json'), paths.join(', '));
      assert.ok(
        paths.every((p) => p.startsWith('package/') && !p.includes('node_modules')),
        paths.join(', '),
      );
    } finally {
      if (saved === undefined) delete process.env.npm_config_cache;
      else process.env.npm_config_cache = saved;
      await rm(empty, { recursive: true, force: true });
    }
  });
});
