import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../blobs/fs-blob-store.ts';
import { DomainError } from '../platform/errors.ts';
import { tempDir } from './bundle.fixtures.ts';
import { formatBytes, saveBundle } from './bundle-store.ts';

const KIB = 1024;
const store = (dir: string) => new FsBlobStore(dir, '.tar.gz');

/** A body of `chunks` pieces of 64 KiB that counts how many were read from it. */
function countingBody(chunks: number) {
  const counter = { read: 0 };
  const body = Readable.from(
    (function* () {
      for (let i = 0; i < chunks; i++) {
        counter.read++;
        yield Buffer.alloc(64 * KIB, i % 256);
      }
    })(),
  );
  return { body, counter };
}

describe('bundle store', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('stores a bundle under the SHA-256 of its bytes', async () => {
    const dir = join(root, 'a');
    const bytes = Buffer.from('pretend this is a tarball');
    const saved = await saveBundle(store(dir), Readable.from([bytes]), 1024);
    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.deepEqual(saved, { sha256: sha, sizeBytes: bytes.length, path: join(dir, `${sha}.tar.gz`) });
    assert.deepEqual(await readFile(saved.path), bytes);
    assert.deepEqual(await readdir(dir), [`${sha}.tar.gz`], 'no temp file left behind');
  });

  it('gives identical content the same path and keeps one copy', async () => {
    const dir = join(root, 'b');
    const first = await saveBundle(
      store(dir),
      Readable.from([Buffer.from('same '), Buffer.from('bytes')]),
      1024,
    );
    const second = await saveBundle(store(dir), Readable.from([Buffer.from('same bytes')]), 1024);
    const other = await saveBundle(store(dir), Readable.from([Buffer.from('other bytes')]), 1024);
    assert.equal(second.path, first.path);
    assert.notEqual(other.path, first.path);
    assert.deepEqual(
      (await readdir(dir)).sort(),
      [`${first.sha256}.tar.gz`, `${other.sha256}.tar.gz`].sort(),
    );
  });

  it('aborts an upload as soon as it passes the limit, and leaves no file', async () => {
    const dir = join(root, 'c');
    const { body, counter } = countingBody(1000);
    await assert.rejects(saveBundle(store(dir), body, 200 * KIB), (err: unknown) => {
      assert.ok(err instanceof DomainError);
      assert.equal(err.code, 'GOVHOST_BUNDLE_TOO_LARGE');
      assert.equal(err.message, 'the bundle is larger than the limit of 200 KiB (204800 bytes)');
      assert.deepEqual(err.extensions, { maxBytes: 204800 });
      return true;
    });
    // 64 MB were on offer; reading stopped a few chunks past the limit (stream buffers allow some).
    assert.ok(counter.read < 20, `read ${counter.read} chunks`);
    assert.deepEqual(await readdir(dir), []);
  });

  it('accepts a bundle of exactly the limit', async () => {
    const dir = join(root, 'd');
    const { body } = countingBody(3);
    const saved = await saveBundle(store(dir), body, 192 * KIB);
    assert.equal(saved.sizeBytes, 192 * KIB);
  });

  it('removes the temp file when the upload breaks off', async () => {
    const dir = join(root, 'e');
    const body = Readable.from(
      (async function* () {
        yield Buffer.from('half a bundle');
        throw new Error('client went away');
      })(),
    );
    await assert.rejects(saveBundle(store(dir), body, 1024), /client went away/);
    assert.deepEqual(await readdir(dir), []);
  });

  it('writes sizes for people', () => {
    assert.equal(formatBytes(512), '512 bytes');
    assert.equal(formatBytes(200 * KIB), '200 KiB');
    assert.equal(formatBytes(1536 * KIB), '1.5 MiB');
    assert.equal(formatBytes(2 * 1024 ** 3), '2 GiB');
  });
});
