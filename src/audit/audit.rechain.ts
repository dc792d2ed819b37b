import type { Executor } from '../platform/database.ts';
import { GENESIS_HASH, macRecord, plainHashRecord, walkChain } from './audit.logic.ts';
import * as repo from './audit.repository.ts';
import { auditKeyOf } from './audit-key.ts';

const PAGE = 1000;

/**
 * Moves the trail from the plain sha256 chain to the keyed one, once (migration 0016). The plain
 * chain is verified first: re-keying a tampered chain would bless the tampering, so a chain that
 * does not verify stops the start, with where it breaks.
 */
export async function rechainUnderKey(db: Executor): Promise<void> {
  await repo.lockChain(db);
  const plain = await walkChain(db, plainHashRecord);
  if (!plain.ok) {
    const where = plain.brokenAtSeq === null ? '' : ` at seq ${plain.brokenAtSeq}`;
    throw new Error(
      `the audit chain does not verify${where} (${plain.reason}); GovHost will not re-key a chain ` +
        'that may have been tampered with: restore the audit log from a backup that verifies, then start again',
    );
  }
  if (plain.records === 0) return;
  const key = auditKeyOf(db);
  if (!key) throw new Error('re-keying the audit chain needs its key (GOVHOST_AUDIT_KEY or audit.key)');
  let prev = GENESIS_HASH;
  let afterSeq = 0;
  for (;;) {
    const page = await repo.list(db, { afterSeq, limit: PAGE });
    const links = page.map((row) => {
      const link = { seq: row.seq, prev_hash: prev, hash: macRecord(key, prev, row) };
      prev = link.hash;
      return link;
    });
    await repo.relink(db, links);
    if (page.length < PAGE) return;
    afterSeq = page.at(-1)?.seq ?? afterSeq;
  }
}
