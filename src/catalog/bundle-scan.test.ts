import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DomainError } from '../platform/errors.ts';
import { craftTarball, listing, type RawEntry, tarballOf, tempDir } from './bundle.fixtures.ts';
import { extractBundle, inspectBundle } from './bundle-inspect.ts';
import { checkEntry, followLink } from './bundle-scan.ts';

const LIMITS = { maxFiles: 100, maxUnpackedBytes: 1024 * 1024 };
const ONLY = ': only files, folders and symbolic links are allowed';

describe('bundle safety rules', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  /** Both inspect and extract refuse it, with this message, and nothing is left unpacked. */
  async function refused(tar: string, message: string, entry?: string, limits = LIMITS) {
    const check = (err: unknown) => {
      assert.ok(err instanceof DomainError, String(err));
      assert.equal(err.code, 'GOVHOST_BUNDLE_INVALID');
      assert.equal(err.message, message);
      if (entry !== undefined) assert.equal(err.extensions.entry, entry);
      return true;
    };
    await assert.rejects(inspectBundle(tar, limits), check);
    const releases = join(dir, `releases-${++n}`);
    await assert.rejects(extractBundle(tar, join(releases, 'r1'), limits), check);
    assert.deepEqual((await listing(releases)) ?? [], [], 'nothing extracted, no temp folder left');
  }

  const crafted = (entries: RawEntry[]) =>
    craftTarball(dir, [{ path: 'index.html', body: '<h1>hi</h1>' }, ...entries], { name: `c${++n}.tar.gz` });

  it('refuses an absolute path', async () => {
    await refused(
      await crafted([{ path: '/etc/cron.d/evil', body: '* * * * * root sh' }]),
      'entry "/etc/cron.d/evil" has an absolute path',
      '/etc/cron.d/evil',
    );
  });

  it('refuses a ".." path component', async () => {
    await refused(
      await crafted([{ path: 'static/../../escape.txt', body: 'x' }]),
      'entry "static/../../escape.txt" has a ".." path component',
      'static/../../escape.txt',
    );
    // Even one that would land inside: there is no honest reason to write one.
    await refused(
      await crafted([{ path: 'a/../b.txt', body: 'x' }]),
      'entry "a/../b.txt" has a ".." path component',
    );
  });

  it('refuses a symlink to an absolute path', async () => {
    await refused(
      await crafted([{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }]),
      'symlink "passwd" points to an absolute path (/etc/passwd)',
      'passwd',
    );
  });

  it('refuses a symlink that resolves outside the bundle, also through other symlinks', async () => {
    await refused(
      await crafted([{ path: 'sub/up', type: 'SymbolicLink', linkpath: '../../secrets' }]),
      'symlink "sub/up" points outside the bundle (../../secrets)',
      'sub/up',
    );
    await refused(
      await crafted([
        { path: 'a/b/root', type: 'SymbolicLink', linkpath: '../..' },
        { path: 'sneaky', type: 'SymbolicLink', linkpath: 'a/b/root/..' },
      ]),
      'symlink "sneaky" points outside the bundle (a/b/root/..)',
      'sneaky',
    );
    await refused(
      await crafted([
        { path: 'assets', type: 'SymbolicLink', linkpath: 'static' },
        { path: 'assets/app.js', body: 'x' },
      ]),
      'entry "assets/app.js" is inside "assets", which is a symlink',
      'assets/app.js',
    );
    await refused(
      await crafted([
        { path: 'x', type: 'SymbolicLink', linkpath: 'y' },
        { path: 'y', type: 'SymbolicLink', linkpath: 'x' },
      ]),
      'symlink "x" is part of a loop of symbolic links',
    );
  });

  it('refuses hard links, devices and FIFOs', async () => {
    await refused(
      await crafted([{ path: 'hard', type: 'Link', linkpath: 'index.html' }]),
      `entry "hard" is a hard link to "index.html"${ONLY}`,
      'hard',
    );
    await refused(
      await crafted([{ path: 'dev/null', type: 'CharacterDevice', devmaj: 1, devmin: 3 }]),
      `entry "dev/null" is a character device${ONLY}`,
    );
    await refused(
      await crafted([{ path: 'dev/sda', type: 'BlockDevice', devmaj: 8, devmin: 0 }]),
      `entry "dev/sda" is a block device${ONLY}`,
    );
    await refused(
      await crafted([{ path: 'pipe', type: 'FIFO' }]),
      `entry "pipe" is a FIFO (named pipe)${ONLY}`,
    );
  });

  it('refuses more entries than allowed', async () => {
    const tree = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [i ? `f${i}.txt` : 'index.html', 'x']),
    );
    const tar = await tarballOf(dir, tree, 'many.tar.gz');
    await refused(tar, 'the bundle has more than 5 entries', undefined, { ...LIMITS, maxFiles: 5 });
    assert.equal((await inspectBundle(tar, { ...LIMITS, maxFiles: 6 })).fileCount, 6);
  });

  it('refuses a bundle that unpacks to more than allowed, before inflating it', async () => {
    const big = 'x'.repeat(600 * 1024);
    const tar = await tarballOf(dir, { 'index.html': 'hi', 'a.txt': big, 'b.txt': big }, 'big.tar.gz');
    await refused(tar, 'the bundle unpacks to more than 1 MiB (1048576 bytes)');
    // A header may claim 6 GB with a few bytes behind it: refused at the header, not after inflating.
    const bomb = await crafted([{ path: 'huge.bin', size: 6 * 1024 ** 3 }]);
    await refused(bomb, 'the bundle unpacks to more than 1 MiB (1048576 bytes)', 'huge.bin');
  });

  it('refuses what is not a gzip-compressed tar archive', async () => {
    const plain = await craftTarball(dir, [{ path: 'index.html', body: 'hi' }], {
      name: 'plain.tar',
      gzip: false,
    });
    await refused(plain, 'not a gzip-compressed tar archive');
    const zip = join(dir, 'site.zip');
    await writeFile(zip, Buffer.from('504b0304140000000800', 'hex'));
    await refused(zip, 'not a gzip-compressed tar archive');
    const empty = join(dir, 'empty.tar.gz');
    await writeFile(empty, '');
    await refused(empty, 'not a gzip-compressed tar archive');
    const gzText = join(dir, 'text.gz');
    await writeFile(gzText, gzipSync('just some text, not a tar archive\n'.repeat(100)));
    await refused(gzText, 'not a gzip-compressed tar archive');
  });

  it('refuses a truncated archive', async () => {
    const whole = await tarballOf(dir, { 'index.html': 'x'.repeat(100_000) }, 'whole.tar.gz');
    const bytes = await readFile(whole);
    const cut = join(dir, 'cut.tar.gz');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await refused(cut, 'the archive is damaged or truncated: zlib: unexpected end of file');
  });

  it('accepts symlinks that stay inside, and extracts them as symlinks', async () => {
    const tar = await crafted([
      { path: 'assets/', type: 'Directory' },
      { path: 'assets/logo.svg', body: '<svg/>' },
      { path: 'assets/latest.svg', type: 'SymbolicLink', linkpath: 'logo.svg' },
      { path: 'deep/link', type: 'SymbolicLink', linkpath: '../assets/logo.svg' },
    ]);
    const info = await inspectBundle(tar, LIMITS);
    assert.equal(info.kind, 'static');
    const dest = join(dir, 'inside');
    await extractBundle(tar, dest);
    assert.equal(await readFile(join(dest, 'deep/link'), 'utf8'), '<svg/>');
    assert.deepEqual(await readdir(join(dest, 'assets')), ['latest.svg', 'logo.svg']);
  });

  it('checks entries and follows links as the kernel would', () => {
    assert.deepEqual(checkEntry({ path: './a//b/', type: 'Directory', linkpath: undefined }), {
      path: 'a/b',
      kind: 'directory',
    });
    assert.throws(() => checkEntry({ path: 'C:/x', type: 'File', linkpath: undefined }), /absolute path/);
    assert.throws(() => checkEntry({ path: 'a\\..\\b', type: 'File', linkpath: undefined }), /"\.\." path/);
    assert.throws(
      () => checkEntry({ path: 'x', type: 'GNUDumpDir', linkpath: undefined }),
      /is of type GNUDumpDir/,
    );
    const links = new Map([
      ['a/up', '..'],
      ['b', 'a/up/a'],
      ['c', 'b/../..'],
    ]);
    assert.equal(followLink('a/up', links), 'inside');
    assert.equal(followLink('b', links), 'inside');
    assert.equal(followLink('c', links), 'outside');
  });
});
