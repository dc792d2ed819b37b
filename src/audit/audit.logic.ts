import { createHash, createHmac } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Db, Executor } from '../platform/database.ts';
import type { AuditRow } from './audit.repository.ts';
import * as repo from './audit.repository.ts';
import { auditKeyOf } from './audit-key.ts';

/** Who made a change, and in which request: taken from the authenticated request. */
export interface AuditContext {
  actorId: string | null;
  actorName: string;
  requestId: string | null;
}

export interface Change {
  /** Verb in `<thing>.<verb>` form, e.g. `service.create`. */
  action: string;
  targetType: string;
  targetId: string;
  departmentId: string | null;
  before?: unknown;
  after?: unknown;
}

export const GENESIS_HASH = '0'.repeat(64);

// Never let a credential into the trail, whatever a caller hands us.
const SECRET_KEYS = new Set([
  'password_hash',
  'passwordHash',
  'password',
  'token_hash',
  'tokenHash',
  'secret',
]);

/** The JSON value that jsonb will give back: dates as strings, secrets dropped, undefined gone. */
function toStoredJson(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(value, (k, v) => (SECRET_KEYS.has(k) ? undefined : v)));
}

/** One record's fields in canonical JSON (RFC 8785): what its link in the chain covers. */
function canonicalBody(row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>): string {
  return (
    canonicalize({
      at: row.at.toISOString(),
      actor_id: row.actor_id,
      actor_name: row.actor_name,
      department_id: row.department_id,
      action: row.action,
      target_type: row.target_type,
      target_id: row.target_id,
      before: row.before ?? null,
      after: row.after ?? null,
      request_id: row.request_id,
    }) ?? ''
  );
}

/**
 * The link of one record: HMAC-SHA256, under a key the database does not hold, of the previous
 * link and the record's canonical JSON. Without the key, nobody can forge a record or re-chain
 * the log after changing one.
 */
export function macRecord(
  key: Buffer,
  prevMac: string,
  row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>,
): string {
  return createHmac('sha256', key).update(prevMac).update('\n').update(canonicalBody(row)).digest('hex');
}

/** The unkeyed link the chain used before 0016 (sha256): read once, by the migration that re-keys it. */
export function plainHashRecord(prevHash: string, row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalBody(row)).digest('hex');
}

/** The key of the chain on this handle, or a clear failure: an audited write without it must not happen. */
function keyOf(db: Executor): Buffer {
  const key = auditKeyOf(db);
  if (!key) throw new Error('the audit chain key is not loaded on this database handle (withAuditKey)');
  return key;
}

/**
 * Appends one record to the hash chain. Call it inside the transaction that makes the change,
 * so that the change and its record are written together or not at all.
 */
export async function recordChange(trx: Executor, ctx: AuditContext, change: Change): Promise<void> {
  await repo.lockChain(trx);
  const prev = (await repo.head(trx))?.hash ?? GENESIS_HASH;
  const row = {
    at: new Date(),
    actor_id: ctx.actorId,
    actor_name: ctx.actorName,
    department_id: change.departmentId,
    action: change.action,
    target_type: change.targetType,
    target_id: change.targetId,
    before: toStoredJson(change.before),
    after: toStoredJson(change.after),
    request_id: ctx.requestId,
  };
  await repo.insert(trx, { ...row, prev_hash: prev, hash: macRecord(keyOf(trx), prev, row) });
}

export type VerifyResult =
  | { ok: true; records: number; headHash: string; headSeq: number }
  | { ok: false; records: number; brokenAtSeq: number | null; reason: string };

type Link = (prev: string, row: AuditRow) => string;

/**
 * Walks the whole chain in pages, re-computing each link with `link`; reports the first record
 * that does not match, and a log whose newest records were cut off.
 */
export async function walkChain(
  db: Executor,
  link: Link,
  onProgress?: (checked: number) => void,
): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let lastSeq = 0;
  let records = 0;
  for (;;) {
    const page = await repo.list(db, { afterSeq: lastSeq, limit: 1000 });
    for (const row of page) {
      if (row.prev_hash !== prev) {
        return {
          ok: false,
          records,
          brokenAtSeq: row.seq,
          reason: 'a record before this one was removed or changed',
        };
      }
      if (link(prev, row) !== row.hash) {
        return {
          ok: false,
          records,
          brokenAtSeq: row.seq,
          reason:
            'this record was changed after it was written (or the audit key is not the one it was written with)',
        };
      }
      prev = row.hash;
      lastSeq = row.seq;
      records += 1;
    }
    onProgress?.(records);
    if (page.length < 1000) break;
  }
  const tail = await repo.head(db);
  if ((tail?.hash ?? GENESIS_HASH) !== prev || (tail?.seq ?? 0) !== lastSeq) {
    return { ok: false, records, brokenAtSeq: tail?.seq ?? null, reason: 'the newest records were removed' };
  }
  return { ok: true, records, headHash: prev, headSeq: lastSeq };
}

/** An anchor: a head of the chain as `govhost audit anchor` prints it, `<seq>:<mac>`. */
export interface Anchor {
  seq: number;
  mac: string;
}

export const formatAnchor = (a: Anchor): string => `${a.seq}:${a.mac}`;

/** Reads `<seq>:<mac>`; null when it is not one. */
export function parseAnchor(text: string): Anchor | null {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  return m ? { seq: Number(m[1]), mac: m[2] as string } : null;
}

/** The newest record's seq and MAC, to keep outside the database; seq 0 for an empty log. */
export async function chainAnchor(db: Db): Promise<Anchor> {
  const head = await repo.head(db);
  return { seq: head?.seq ?? 0, mac: head?.hash ?? GENESIS_HASH };
}

/**
 * Re-computes the whole keyed chain; with `anchor`, also checks that the record it names is still
 * there with the same MAC, so a log rewritten by someone holding the key is caught too.
 */
export async function verifyChain(
  db: Db,
  opts: { anchor?: Anchor; onProgress?: (checked: number) => void } = {},
): Promise<VerifyResult> {
  const key = keyOf(db);
  const result = await walkChain(db, (prev, row) => macRecord(key, prev, row), opts.onProgress);
  const anchor = opts.anchor;
  if (!result.ok || !anchor || anchor.seq === 0) return result;
  const row = await repo.findBySeq(db, anchor.seq);
  if (!row || row.hash !== anchor.mac) {
    return {
      ok: false,
      records: result.records,
      brokenAtSeq: anchor.seq,
      reason: row
        ? 'the record at the anchor no longer has the anchored MAC: the log was rewritten'
        : 'the record at the anchor is gone: the log was rewritten',
    };
  }
  return result;
}

/**
 * Stops a start whose key is not the one the chain was written with: a replica with another key
 * would append records that no key verifies. Checks only the newest record, so it costs nothing.
 */
export async function checkChainKey(db: Db): Promise<void> {
  const head = await repo.head(db);
  if (!head) return;
  const row = await repo.findBySeq(db, head.seq);
  if (row && macRecord(keyOf(db), row.prev_hash, row) === row.hash) return;
  throw new Error(
    'the newest audit record does not match under this audit key: every control-plane process ' +
      'must use the key the chain was written with (GOVHOST_AUDIT_KEY, or audit.key in the data ' +
      'folder), or the record was changed in the database',
  );
}

export type { AuditRow } from './audit.repository.ts';
export { list as listRecords } from './audit.repository.ts';
