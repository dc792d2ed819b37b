import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Db, Executor } from '../platform/database.ts';
import type { AuditRow } from './audit.repository.ts';
import * as repo from './audit.repository.ts';

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

/** The hash of one record: its fields in canonical JSON (RFC 8785), chained to the previous hash. */
export function hashRecord(prevHash: string, row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>): string {
  const body = canonicalize({
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
  });
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(body ?? '')
    .digest('hex');
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
  await repo.insert(trx, { ...row, prev_hash: prev, hash: hashRecord(prev, row) });
}

export type VerifyResult =
  | { ok: true; records: number; headHash: string }
  | { ok: false; records: number; brokenAtSeq: number | null; reason: string };

/** Re-computes the whole chain in pages; reports the first record that does not match. */
export async function verifyChain(db: Db, onProgress?: (checked: number) => void): Promise<VerifyResult> {
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
      if (hashRecord(prev, row) !== row.hash) {
        return {
          ok: false,
          records,
          brokenAtSeq: row.seq,
          reason: 'this record was changed after it was written',
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
  return { ok: true, records, headHash: prev };
}

export type { AuditRow } from './audit.repository.ts';
export { list as listRecords } from './audit.repository.ts';
