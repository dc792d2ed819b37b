import { randomBytes } from 'node:crypto';
import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { challengeName, checkTxtProof } from './dns-proof.ts';
import type { DomainRow } from './domains.repository.ts';
import * as repo from './domains.repository.ts';
import type { DomainSource, DomainState } from './domains.tables.ts';
import { normaliseHostname, type PlatformNames, refusePlatformName } from './hostname.ts';

export interface DomainDeps {
  db: Db;
  platform: PlatformNames;
  /** Approval first requires the TXT record `_govhost-challenge.<hostname>` = the claim's token. */
  txtCheck: boolean;
  /** `host:port` of the DNS server the check asks; null: the system's. */
  dnsResolver: string | null;
  /** Told after a change of what is routed (approval, rejection, removal): the table is published again. */
  onChange?: () => Promise<void>;
}

/** A claim as the API shows it. */
export interface Domain {
  hostname: string;
  /** `DEPT/slug`. */
  service: string;
  state: DomainState;
  source: DomainSource;
  /** The DNS record that proves control of the name (required for approval when the check is on). */
  txtRecord: { name: string; value: string };
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  rejectReason: string | null;
}

export const presentDomain = (r: DomainRow): Domain => ({
  hostname: r.hostname,
  service: `${r.department_code}/${r.slug}`,
  state: r.state,
  source: r.source,
  txtRecord: { name: challengeName(r.hostname), value: r.token },
  requestedBy: r.requested_by,
  requestedAt: r.requested_at.toISOString(),
  decidedBy: r.decided_by,
  decidedAt: r.decided_at ? r.decided_at.toISOString() : null,
  rejectReason: r.reject_reason,
});

const notFound = (hostname: string) => new DomainError('GOVHOST_DOMAIN_NOT_FOUND', `no claim on ${hostname}`);

type Service = Awaited<ReturnType<typeof resolveService>>;

/** Refuses a name another claim holds; the answer names no other department's service. */
async function refuseTaken(db: Db, hostname: string, svc: Service) {
  const holder = await repo.holderOf(db, hostname);
  if (!holder) return;
  if (holder.service_id === svc.id)
    throw new DomainError(
      'GOVHOST_DOMAIN_TAKEN',
      `${hostname} is already claimed by this service (${holder.state})`,
    );
  throw new DomainError('GOVHOST_DOMAIN_TAKEN', `${hostname} is already claimed by another service`);
}

async function insertClaim(
  deps: DomainDeps,
  caller: Caller,
  svc: Service,
  hostname: string,
  source: DomainSource,
) {
  try {
    return await deps.db.transaction().execute(async (trx) => {
      await repo.insert(trx, {
        hostname,
        service_id: svc.id,
        department_id: svc.department_id,
        // What the department puts in DNS: unguessable, so that only the name's owner can prove it.
        token: randomBytes(18).toString('base64url'),
        source,
        requested_by: caller.username,
      });
      const row = (await repo.find(trx, null, hostname))!;
      await recordChange(trx, auditContext(caller), {
        action: 'domain.claim',
        targetType: 'domain',
        targetId: hostname,
        departmentId: svc.department_id,
        after: { ...presentDomain(row), txtRecord: undefined },
      });
      return presentDomain(row);
    });
  } catch (err) {
    // Another claim won the race between the check and the insert.
    if (isUniqueViolation(err))
      throw new DomainError('GOVHOST_DOMAIN_TAKEN', `${hostname} is already claimed by another service`);
    throw err;
  }
}

/**
 * Files a claim (pending) on `rawHostname` for a service: normalised, checked, refused when it is
 * one of the platform's own names or any service (of any department) holds it already.
 */
export async function claimDomain(
  deps: DomainDeps,
  caller: Caller,
  department: string,
  slug: string,
  rawHostname: string,
): Promise<Domain> {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'domain:write');
  const hostname = normaliseHostname(rawHostname);
  refusePlatformName(hostname, deps.platform);
  await refuseTaken(deps.db, hostname, svc);
  return insertClaim(deps, caller, svc, hostname, 'api');
}

/**
 * What a deploy's manifest `routes:` asked for: a pending claim for each name this service does
 * not hold yet, never a removal. Returns one line per name for the deploy's warnings; a name that
 * cannot be claimed is said, not thrown, so that the deploy itself goes on.
 */
export async function claimManifestRoutes(
  deps: Pick<DomainDeps, 'db' | 'platform'>,
  caller: Caller,
  svc: Service,
  hostnames: readonly string[],
): Promise<string[]> {
  const lines: string[] = [];
  const held = new Map((await repo.listForService(deps.db, null, svc.id)).map((r) => [r.hostname, r.state]));
  for (const raw of hostnames) {
    try {
      const hostname = normaliseHostname(raw);
      const state = held.get(hostname);
      if (state === 'approved') continue;
      if (state) {
        lines.push(
          `routes: ${hostname} is ${state === 'pending' ? 'still waiting for an operator' : 'rejected'}: it is not routed`,
        );
        continue;
      }
      authorize(caller, 'domain:write');
      refusePlatformName(hostname, deps.platform);
      await refuseTaken(deps.db, hostname, svc);
      await insertClaim({ ...deps, txtCheck: false, dnsResolver: null }, caller, svc, hostname, 'manifest');
      lines.push(
        `routes: ${hostname} is claimed for this service; it is routed once an operator approves it`,
      );
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      lines.push(`routes: ${raw} is not claimed: ${err.message}`);
    }
  }
  return lines;
}

/** A service's claims, every state. */
export async function listServiceDomains(
  deps: DomainDeps,
  caller: Principal,
  department: string,
  slug: string,
) {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'service:read');
  return (await repo.listForService(deps.db, departmentScope(caller), svc.id)).map(presentDomain);
}

/** Claims across departments (operators: all; a department user: its own), e.g. the pending queue. */
export async function listDomains(
  deps: DomainDeps,
  caller: Principal,
  page: Page,
  filter: { state?: DomainState },
): Promise<PageOf<Domain>> {
  authorize(caller, 'service:read');
  const { items, total } = await repo.list(deps.db, departmentScope(caller), page, filter);
  return { items: items.map(presentDomain), total, ...page };
}

/** Removes a service's claim; an approved name stops being routed. */
export async function removeDomain(
  deps: DomainDeps,
  caller: Caller,
  department: string,
  slug: string,
  rawHostname: string,
): Promise<void> {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'domain:write');
  const hostname = normaliseHostname(rawHostname);
  const removed = await deps.db.transaction().execute(async (trx) => {
    const row = await repo.find(trx, departmentScope(caller), hostname, true);
    // Another service's claim (this department's or not) is not this service's to remove.
    if (!row || row.service_id !== svc.id) throw notFound(hostname);
    await repo.remove(trx, departmentScope(caller), row.id);
    await recordChange(trx, auditContext(caller), {
      action: 'domain.remove',
      targetType: 'domain',
      targetId: hostname,
      departmentId: row.department_id,
      before: { ...presentDomain(row), txtRecord: undefined },
    });
    return row;
  });
  if (removed.state === 'approved') await deps.onChange?.();
}

/** Which states an operator's decision may move a claim from (a change of mind is allowed). */
const DECIDE_FROM: Record<'approved' | 'rejected', DomainState[]> = {
  approved: ['pending', 'rejected'],
  rejected: ['pending', 'approved'],
};

async function decide(
  deps: DomainDeps,
  caller: Caller,
  rawHostname: string,
  to: 'approved' | 'rejected',
  reason: string | null,
): Promise<Domain> {
  authorize(caller, 'domain:approve');
  const hostname = normaliseHostname(rawHostname);
  const first = await repo.find(deps.db, null, hostname);
  if (!first) throw notFound(hostname);
  // Outside the transaction: a DNS lookup may take seconds and must hold no lock meanwhile.
  if (to === 'approved' && deps.txtCheck) await checkTxtProof(hostname, first.token, deps.dnsResolver);
  const row = await deps.db.transaction().execute(async (trx) => {
    const before = await repo.find(trx, null, hostname, true);
    if (!before || before.token !== first.token) throw notFound(hostname);
    if (!DECIDE_FROM[to].includes(before.state))
      throw new DomainError('GOVHOST_DOMAIN_STATE', `${hostname} is ${before.state} already`);
    await repo.decide(trx, before.id, { state: to, by: caller.username, at: new Date(), reason });
    await recordChange(trx, auditContext(caller), {
      action: to === 'approved' ? 'domain.approve' : 'domain.reject',
      targetType: 'domain',
      targetId: hostname,
      departmentId: before.department_id,
      before: { state: before.state },
      after: {
        state: to,
        service: `${before.department_code}/${before.slug}`,
        ...(reason ? { reason } : {}),
      },
    });
    return (await repo.find(trx, null, hostname))!;
  });
  await deps.onChange?.();
  return presentDomain(row);
}

/** An operator approves a claim: the name is routed to its service from the next route table on. */
export const approveDomain = (deps: DomainDeps, caller: Caller, hostname: string) =>
  decide(deps, caller, hostname, 'approved', null);

/** An operator rejects a claim, saying why; a name approved before stops being routed. */
export const rejectDomain = (deps: DomainDeps, caller: Caller, hostname: string, reason: string) =>
  decide(deps, caller, hostname, 'rejected', reason);

/**
 * The approved host names of every service, by service id: what the runtime adds to the route
 * table beside each service's platform name.
 * @example (await approvedHostnames(db)).get(serviceId) // ['etax.ird.gov.hk']
 */
export async function approvedHostnames(db: Db): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of await repo.approved(db))
    out.set(r.service_id, [...(out.get(r.service_id) ?? []), r.hostname]);
  return out;
}
