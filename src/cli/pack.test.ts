import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { link, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir, writeTree } from '../catalog/bundle.fixtures.ts';
import { extractBundle, inspectBundle } from '../catalog/bundle-inspect.ts';
import { CliError } from './errors.ts';
import { packBundle } from './pack.ts';

const LIMITS = { maxFiles: 1000, maxUnpackedBytes: 10 * 1024 * 1024 };

/** Every file and symlink under `dir`, as sorted relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true, withFileTypes: true });
  return all
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('packBundle', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const made: string[] = [];
  before(async () => ({ dir, cleanup } = await tempDir('govhost-pack-test-')));
  after(async () => {
    await cleanup();
    for (const p of made) await rm(p, { force: true });
  });
  const pack = async (folder: string) => {
    const packed = await packBundle(folder);
    made.push(packed.path);
    return packed;
  };

  it('honours .govhostignore and the default ignores, and round-trips through inspect and extract', async () => {
    const app = join(dir, 'app');
    await writeTree(app, {
      '.govhostignore': '# local only\n*.log\n!keep.log\nsecrets.env\ntmp/\n/build-cache\n',
      '.git/config': '[core]',
      '.govhost/credentials': 'token',
      'server.js': 'require("http").createServer().listen(process.env.PORT)',
      'manifest.yml': 'applications:\n- name: app\n  memory: 128M\n',
      'public/index.html': '<h1>hi</h1>',
      'public/debug.log': 'noise',
      'keep.log': 'wanted',
      'secrets.env': 'PASSWORD=x',
      'tmp/scratch.txt': 'x',
      'build-cache/a': 'x',
      'lib/build-cache/b': 'kept: the rule is anchored to the top',
      'lib/current': { symlink: '../public/index.html' },
    });
    const packed = await pack(app);
    assert.equal(packed.files, 6);
    assert.equal(packed.bytes, (await stat(packed.path)).size);

    const info = await inspectBundle(packed.path, LIMITS);
    assert.equal(info.kind, 'process');
    assert.equal(info.command, 'node server.js');
    assert.equal(info.manifest.memoryMb, 128);
    assert.equal(
      info.sha256,
      createHash('sha256')
        .update(await readFile(packed.path))
        .digest('hex'),
    );

    const out = join(dir, 'unpacked');
    await extractBundle(packed.path, out);
    assert.deepEqual(await filesUnder(out), [
      'keep.log',
      'lib/build-cache/b',
      'lib/current',
      'manifest.yml',
      'public/index.html',
      'server.js',
    ]);
    assert.equal(await readFile(join(out, 'lib/current'), 'utf8'), '<h1>hi</h1>');
  });

  it('gives the same bytes for the same folder, so the platform keeps one copy', async () => {
    const app = join(dir, 'same');
    await writeTree(app, { 'index.html': 'hello', 'css/site.css': 'body{}' });
    const first = await pack(app);
    const second = await pack(app);
    assert.notEqual(first.path, second.path);
    assert.deepEqual(await readFile(first.path), await readFile(second.path));
  });

  it('packs hard-linked files as plain files, which bundles allow', async () => {
    const app = join(dir, 'hard');
    await writeTree(app, { 'index.html': 'hello' });
    await link(join(app, 'index.html'), join(app, 'copy.html'));
    const packed = await pack(app);
    const out = join(dir, 'hard-out');
    await extractBundle(packed.path, out);
    assert.equal(await readFile(join(out, 'copy.html'), 'utf8'), 'hello');
  });

  it('refuses a symlink that points outside the folder', async () => {
    const refuses = async (name: string, target: string, message: string) => {
      const app = join(dir, name);
      await writeTree(app, { 'index.html': 'x', 'tmp/keep': 'x', link: { symlink: target } });
      await assert.rejects(pack(app), (err: unknown) => {
        assert.ok(err instanceof CliError);
        assert.equal(err.message, message);
        return true;
      });
    };
    const suffix = '; a bundle can only link to its own files';
    await refuses(
      'up',
      '../outside.txt',
      `cannot pack link: it is a symlink to ../outside.txt, which is outside the folder${suffix}`,
    );
    await refuses(
      'abs',
      '/etc/passwd',
      `cannot pack link: it is a symlink to /etc/passwd, an absolute path${suffix}`,
    );

    // Inside on paper, outside on disk: an ignored folder holds a link that leaves.
    const sneaky = join(dir, 'sneaky');
    await writeTree(sneaky, {
      '.govhostignore': 'tmp/\n',
      'index.html': 'x',
      'tmp/etc': { symlink: '/etc' },
      passwd: { symlink: 'tmp/etc/passwd' },
    });
    await assert.rejects(pack(sneaky), {
      message: `cannot pack passwd: it is a symlink to tmp/etc/passwd, which resolves to /etc/passwd, outside the folder${suffix}`,
    });
  });

  it('fails clearly on a missing folder, a file, or nothing to pack', async () => {
    const missing = join(dir, 'no-such-app');
    await assert.rejects(pack(missing), {
      name: 'CliError',
      message: `cannot pack ${missing}: there is no such folder`,
    });
    const file = join(dir, 'file.txt');
    await writeTree(dir, { 'file.txt': 'x' });
    await assert.rejects(pack(file), { message: `cannot pack ${file}: it is a file, not a folder` });
    const bare = join(dir, 'bare');
    await writeTree(bare, { '.govhostignore': '*\n', 'a.txt': 'x' });
    await assert.rejects(pack(bare), { message: `cannot pack ${bare}: there are no files to pack` });
  });
});
