import { randomBytes } from 'node:crypto';
import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { hashSecret } from '../tenancy/token.logic.ts';
import * as repo from './key.repository.ts';
import type { KeyMode } from './payments.tables.ts';

/** A payment key's prefix names its mode, so a leaked key says at a glance what it can do. */
const PREFIX = { test: 'ghp_test_', live: 'ghp_live_' } as const;

/** The hosted service a payment key stands for: what payment logic takes as "who asks". */
export interface ServiceKey {
  keyId: string;
  departmentId: string;
  serviceId: string;
  mode: KeyMode;
}

export interface PaymentKey {
  id: string;
  name: string;
  mode: KeyMode;
  prefix: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

const present = (r: Awaited<ReturnType<typeof repo.insert>>): PaymentKey => ({
  id: r.id,
  name: r.name,
  mode: r.mode,
  prefix: r.prefix,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

/**
 * Makes a key for a service and returns its secret: the only time it is shown. A live key takes
 * real money: it is made only where live payments can work (`liveUnavailable` null, decision 049).
 */
export async function createKey(
  db: Db,
  caller: Caller,
  department: string,
  slug: string,
  input: { name: string; mode: KeyMode },
  liveUnavailable: string | null,
): Promise<{ key: PaymentKey; secret: string }> {
  authorize(caller, 'payments:keys');
  if (input.mode === 'live' && liveUnavailable)
    throw new DomainError('GOVHOST_PAYMENT_LIVE_UNAVAILABLE', `no live payment key: ${liveUnavailable}`);
  const service = await resolveService(db, caller, department, slug);
  return db.transaction().execute(async (trx) => {
    const secret = PREFIX[input.mode] + randomBytes(32).toString('base64url');
    const row = await repo.insert(trx, {
      department_id: service.department_id,
      service_id: service.id,
      mode: input.mode,
      name: input.name,
      key_hash: hashSecret(secret),
      prefix: secret.slice(0, PREFIX[input.mode].length + 6),
      created_by: caller.username,
    });
    const key = present(row);
    await recordChange(trx, auditContext(caller), {
      action: 'payment-key.create',
      targetType: 'payment-key',
      targetId: row.id,
      departmentId: service.department_id,
      after: key,
    });
    return { key, secret };
  });
}

export async function listKeys(
  db: Db,
  caller: Principal,
  department: string,
  slug: string,
): Promise<PaymentKey[]> {
  authorize(caller, 'payments:read');
  const service = await resolveService(db, caller, department, slug);
  return (await repo.listForService(db, departmentScope(caller), service.id)).map(present);
}

export async function revokeKey(db: Db, caller: Caller, department: string, slug: string, id: string) {
  authorize(caller, 'payments:keys');
  const service = await resolveService(db, caller, department, slug);
  return db.transaction().execute(async (trx) => {
    const row = await repo.findForService(trx, service.id, id);
    if (!row) throw new DomainError('GOVHOST_PAYMENT_KEY_NOT_FOUND', `no payment key ${id} for ${slug}`);
    await repo.revoke(trx, id, new Date());
    const after = present((await repo.findForService(trx, service.id, id))!);
    await recordChange(trx, auditContext(caller), {
      action: 'payment-key.revoke',
      targetType: 'payment-key',
      targetId: id,
      departmentId: service.department_id,
      after,
    });
    return after;
  });
}

/**
 * The service behind a payment key, or 401 when it is unknown or revoked; a live key is refused
 * (403) while `liveRefused` says why this request may not use one.
 */
export async function authenticateKey(
  db: Db,
  secret: string,
  liveRefused: () => string | null,
): Promise<ServiceKey> {
  const mode = secret.startsWith(PREFIX.test) ? 'test' : secret.startsWith(PREFIX.live) ? 'live' : null;
  if (!mode)
    throw new DomainError('GOVHOST_TOKEN_INVALID', 'send a payment key (ghp_test_…) as the Bearer token');
  const row = await repo.findLiveByHash(db, hashSecret(secret));
  if (!row || row.mode !== mode) throw new DomainError('GOVHOST_TOKEN_INVALID');
  const refused = row.mode === 'live' ? liveRefused() : null;
  if (refused) throw new DomainError('GOVHOST_PAYMENT_LIVE_UNAVAILABLE', refused);
  return { keyId: row.id, departmentId: row.department_id, serviceId: row.service_id, mode: row.mode };
}
