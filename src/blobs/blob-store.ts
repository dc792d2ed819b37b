/**
 * The blob store: content-addressed bytes (uploaded bundles, droplet archives) named by their
 * SHA-256, kept where every control-plane replica can read them. Two implementations: the data
 * folder (one machine, the default) and PostgreSQL (chunked rows, for replicas on several hosts).
 * Every read checks the bytes against their name: a corrupted blob is an error naming its key,
 * never served.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { DomainError } from '../platform/errors.ts';

export interface PutResult {
  sha256: string;
  sizeBytes: number;
}

export interface BlobStore {
  /**
   * Streams `body` in while hashing it; the same bytes twice are stored once, and the second put
   * counts as the blob's store time for `list(olderThanMs)`, as the first did.
   */
  put(body: NodeJS.ReadableStream): Promise<PutResult>;
  /**
   * The blob's bytes as a stream that fails (GOVHOST_BLOB_CORRUPT) at its end when they do not
   * hash to `sha256`: a consumer must treat what it read as unusable until the stream has ended.
   * Rejects with GOVHOST_BLOB_NOT_FOUND when there is no such blob.
   */
  get(sha256: string): Promise<NodeJS.ReadableStream>;
  has(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
  /**
   * Every stored key, for garbage collection; with `olderThanMs`, only blobs stored at least that
   * long ago (a blob is stored before the record that names it, possibly by another replica).
   */
  list(olderThanMs?: number): Promise<string[]>;
  /** Removes what interrupted puts left (older than an hour); returns how many. */
  sweep(): Promise<number>;
  /**
   * A verified file of the blob on this host: the stored file itself for the data folder, a copy
   * fetched into the local cache folder for PostgreSQL (reused while it still hashes right).
   */
  file(sha256: string): Promise<string>;
}

export const SHA256 = /^[0-9a-f]{64}$/;

export function blobCorrupt(sha256: string, why: string): DomainError {
  return new DomainError('GOVHOST_BLOB_CORRUPT', `blob ${sha256} is corrupt: ${why}`, { sha256 });
}

export function blobNotFound(sha256: string): DomainError {
  return new DomainError('GOVHOST_BLOB_NOT_FOUND', `blob ${sha256} is not in the blob store`, { sha256 });
}

/**
 * Passes bytes through and hashes them; at the end, fails when they do not hash to `sha256` (or
 * are not `sizeBytes` long, when known), so nothing downstream takes a corrupted blob as whole.
 */
export function verifier(sha256: string, sizeBytes?: number): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (sizeBytes !== undefined && seen !== sizeBytes) {
        done(blobCorrupt(sha256, `${seen} bytes read, ${sizeBytes} stored`));
        return;
      }
      const got = hash.digest('hex');
      done(got === sha256 ? null : blobCorrupt(sha256, `its bytes hash to ${got}`));
    },
  });
}

/** Hashes and counts what passes through: the key of a blob being put. */
export function hasher(): Transform & { result(): PutResult } {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      done(null, chunk);
    },
  });
  return Object.assign(t, { result: () => ({ sha256: hash.digest('hex'), sizeBytes }) });
}
