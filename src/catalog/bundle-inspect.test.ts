import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DomainError } from '../platform/errors.ts';
import { craftTarball, listing, type Tree, tarballOf, tempDir } from './bundle.fixtures.ts';
import { extractBundle, inspectBundle } from './bundle-inspect.ts';

const LIMITS = { maxFiles: 1000, maxUnpackedBytes: 10 * 1024 * 1024 };

describe('inspectBundle', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  const inspect = async (tree: Tree) => inspectBundle(await tarballOf(dir, tree, `b${++n}.tar.gz`), LIMITS);
  const startOf = async (tree: Tree) => {
    const { kind, command } = await inspect(tree);
    return { kind, command };
  };
  const pkg = (scripts: Record<string, string>) => JSON.stringify({ name: 'x', scripts });

  it('takes the command from the manifest first', async () => {
    const info = await inspect({
      'manifest.yml': 'applications:\n- name: forms\n  command: node main.js\n  memory: 128M\n',
      Procfile: 'web: node other.js\n',
      'server.js': '',
    });
    assert.deepEqual(
      { kind: info.kind, command: info.command },
      { kind: 'process', command: 'node main.js' },
    );
    assert.equal(info.manifest.memoryMb, 128);
    assert.equal(info.manifest.name, 'forms');
  });

  it('then from the web: line of a Procfile', async () => {
    const info = await inspect({
      Procfile: 'web: python3 app.py\nworker: python3 jobs.py\n',
      'package.json': pkg({ start: 'node x.js' }),
    });
    assert.deepEqual(
      { kind: info.kind, command: info.command },
      { kind: 'process', command: 'python3 app.py' },
    );
    assert.deepEqual(info.warnings, [
      'Procfile line 2: worker processes are not run by GovHost; only web is',
    ]);
  });

  it('then from a start script in package.json', async () => {
    assert.deepEqual(await startOf({ 'package.json': pkg({ start: 'node index.js' }), 'server.js': '' }), {
      kind: 'process',
      command: 'npm start',
    });
    const info = await inspect({ Procfile: 'worker: x\n', 'package.json': pkg({ start: 'node index.js' }) });
    assert.equal(info.command, 'npm start');
    assert.ok(
      info.warnings.includes('Procfile has no web: line, so GovHost looks elsewhere for the start command'),
    );
  });

  it('then runs server.js', async () => {
    const start = { kind: 'process', command: 'node server.js' };
    assert.deepEqual(await startOf({ 'server.js': 'require("http")' }), start);
    assert.deepEqual(await startOf({ 'package.json': pkg({ test: 'node --test' }), 'server.js': '' }), start);
    assert.deepEqual(await startOf({ 'server.js': '', 'index.html': '<h1>hi</h1>' }), start);
  });

  it('serves a folder with an index.html and no command as a static site', async () => {
    assert.deepEqual(await startOf({ 'index.html': '<h1>hi</h1>', 'css/site.css': 'body{}' }), {
      kind: 'static',
      command: null,
    });
    const info = await inspect({
      'manifest.yml': 'applications:\n- routes: [{ route: a.gov.hk }]\n',
      'index.html': '',
    });
    assert.equal(info.kind, 'static');
    assert.deepEqual(info.manifest.routes, ['a.gov.hk']);
  });

  it('says how to make a bundle startable when nothing starts it', async () => {
    await assert.rejects(inspect({ 'README.md': '# hello', 'app/index.html': '' }), {
      code: 'GOVHOST_BUNDLE_INVALID',
      message:
        'no way to start this app: looked for a command in manifest.yml, a web: line in a Procfile, ' +
        'a start script in package.json, a server.js, one executable .jar, or an index.html for a ' +
        'static site (a Python app with requirements.txt or pyproject.toml needs a Procfile web: line ' +
        'or a manifest command)',
    });
    // One executable jar starts with java -jar.
    assert.equal((await inspect({ 'app.jar': 'x' })).command, 'java -jar app.jar');
  });

  it('reports manifest errors with their line and field', async () => {
    await assert.rejects(
      inspect({ 'manifest.yaml': 'applications:\n- name: x\n  instances: 0\n', 'server.js': '' }),
      {
        code: 'GOVHOST_MANIFEST_INVALID',
        message: 'manifest.yaml line 3: applications[0].instances must be a whole number from 1 to 100',
        extensions: { file: 'manifest.yaml', line: 3, field: 'applications[0].instances' },
      },
    );
    await assert.rejects(inspect({ Procfile: 'web node app.js\n' }), {
      code: 'GOVHOST_MANIFEST_INVALID',
      message: 'Procfile line 1: must look like "web: node server.js" (a process type, a colon, a command)',
    });
  });

  it('refuses ambiguous or broken start files', async () => {
    const manifest = 'applications:\n- name: x\n';
    await assert.rejects(inspect({ 'manifest.yml': manifest, 'manifest.yaml': manifest, 'server.js': '' }), {
      message: 'the bundle has both manifest.yml and manifest.yaml: keep one',
    });
    await assert.rejects(inspect({ 'package.json': '{ "scripts": ' }), (err: DomainError) => {
      assert.equal(err.code, 'GOVHOST_BUNDLE_INVALID');
      assert.match(err.message, /^package\.json is not valid JSON: /);
      return true;
    });
    await assert.rejects(
      inspect({ 'real.yml': manifest, 'manifest.yml': { symlink: 'real.yml' }, 'server.js': '' }),
      {
        message: 'manifest.yml must be a regular file, not a symlink',
      },
    );
  });

  it('reports the hash, the entry count and the unpacked size', async () => {
    const tar = await tarballOf(dir, { 'index.html': 'hello', 'a/b.txt': 'abc' }, 'counted.tar.gz');
    const info = await inspectBundle(tar, LIMITS);
    assert.equal(
      info.sha256,
      createHash('sha256')
        .update(await readFile(tar))
        .digest('hex'),
    );
    assert.equal(info.fileCount, 3, 'index.html, a/, a/b.txt');
    assert.equal(info.unpackedBytes, 8);
  });
});

describe('extractBundle', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  it('unpacks into a new or empty folder, and opens it to other users', async () => {
    const tar = await tarballOf(dir, { 'index.html': 'hello', 'css/site.css': 'body{}' });
    const dest = join(dir, 'releases', 'r1');
    await extractBundle(tar, dest);
    assert.deepEqual(await listing(dest), ['css', 'index.html']);
    assert.equal(await readFile(join(dest, 'css/site.css'), 'utf8'), 'body{}');
    assert.equal((await stat(dest)).mode & 0o777, 0o755);
    assert.deepEqual(await listing(join(dir, 'releases')), ['r1'], 'no temp folder left');

    const empty = join(dir, 'releases', 'r2');
    await mkdir(empty);
    await extractBundle(tar, empty);
    assert.deepEqual(await listing(empty), ['css', 'index.html']);
  });

  it('refuses a folder that is not empty and leaves it alone', async () => {
    const tar = await tarballOf(dir, { 'index.html': 'hello' }, 'busy.tar.gz');
    const dest = join(dir, 'busy');
    await mkdir(dest);
    await writeFile(join(dest, 'keep.txt'), 'mine');
    await assert.rejects(extractBundle(tar, dest), /it is not an empty folder/);
    assert.deepEqual(await listing(dest), ['keep.txt']);
    assert.deepEqual(
      (await listing(dir))?.filter((f) => f.includes('unpacking')),
      [],
    );
  });

  it('drops setuid, setgid and group/other write bits, and keeps files removable', async () => {
    const tar = await craftTarball(dir, [
      { path: 'index.html', body: 'hi', mode: 0o4755 },
      { path: 'shared.txt', body: 'x', mode: 0o2777 },
      { path: 'locked/', type: 'Directory', mode: 0o555 },
      { path: 'locked/ro.txt', body: 'x', mode: 0o444 },
    ]);
    const dest = join(dir, 'modes');
    await extractBundle(tar, dest);
    const mode = async (p: string) => (await stat(join(dest, p))).mode & 0o7777;
    assert.equal(await mode('index.html'), 0o755);
    assert.equal(await mode('shared.txt'), 0o755);
    assert.equal(await mode('locked'), 0o755);
    assert.equal(await mode('locked/ro.txt'), 0o644);
    // The archive says 2024-01-01; an unpacked release carries the time it was unpacked.
    assert.ok((await stat(join(dest, 'index.html'))).mtimeMs > Date.parse('2024-06-01'));
  });
});
