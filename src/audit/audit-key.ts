import { join } from 'node:path';
import type { Kysely, KyselyPlugin } from 'kysely';
import { loadKey } from '../platform/secrets.ts';

/**
 * Carries the audit chain's HMAC key on a database handle. Every audited change runs
 * `recordChange(trx, …)` deep inside some capability's transaction: a plugin travels with the
 * handle into each transaction made from it, so the key reaches the chain without every caller
 * passing it on, and a handle opened without it cannot write to the chain at all.
 */
class AuditKeyPlugin implements KyselyPlugin {
  constructor(readonly key: Buffer) {}
  transformQuery: KyselyPlugin['transformQuery'] = (args) => args.node;
  transformResult: KyselyPlugin['transformResult'] = async (args) => args.result;
}

/** The audit key: GOVHOST_AUDIT_KEY when set, else `audit.key` in the data folder, made once. */
export function loadAuditKey(config: { dataDir: string; auditKey: string | null }): Buffer {
  return loadKey(join(config.dataDir, 'audit.key'), config.auditKey, 'GOVHOST_AUDIT_KEY');
}

/** The same database handle, able to write and verify the audit chain under `key`. */
export function withAuditKey<DB>(db: Kysely<DB>, key: Buffer): Kysely<DB> {
  return db.withPlugin(new AuditKeyPlugin(key));
}

/** The key a handle (or a transaction opened from it) carries, the last one given; null when none. */
// biome-ignore lint/suspicious/noExplicitAny: any database's handle may carry the key
export function auditKeyOf(db: Kysely<any>): Buffer | null {
  const plugin = db.getExecutor().plugins.findLast((p) => p instanceof AuditKeyPlugin);
  return (plugin as AuditKeyPlugin | undefined)?.key ?? null;
}
