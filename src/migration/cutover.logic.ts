import { isIP } from 'node:net';
import { type AuditContext, recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import {
  internalKind,
  type Resolve,
  systemResolve,
  WebhookPolicy,
  WebhookTargetError,
} from '../monitoring/webhook-target.ts';
import type { Config } from '../platform/config.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { parseCutover } from '../router/cutover-validate.ts';
import type { Cutover as RouteCutover } from '../router/route-table.ts';
import { auditContext, authorize, type Caller, departmentScope } from '../tenancy/principal.ts';
import type { CutoverRow } from './cutover.repository.ts';
import * as repo from './cutover.repository.ts';

export interface CutoverDeps {
  db: Db;
  config: Pick<Config, 'legacyAllow' | 'host' | 'port' | 'routerPort' | 'routerAdminPort'>;
  /** Name look-ups for the allow-list check; the system's by default (tests give their own). */
  resolve?: Resolve;
  /** Told after a change of what is routed: the route table is built and published again. */
  onChange?: () => Promise<void>;
}

/** A cut-over as the API shows it. */
export interface Cutover {
  /** `DEPT/slug`. */
  service: string;
  legacyUrl: string;
  legacyHost: string | null;
  /** Whether a CA is set (the PEM itself is not echoed). */
  legacyCa: boolean;
  percent: number;
  newPaths: string[];
  sticky: boolean;
  fallbackErrorRate: number | null;
  updatedBy: string;
  updatedAt: string;
}

/** What an operator sets; percent defaults to 0 (everything still goes to the legacy service). */
export interface CutoverInput {
  legacyUrl: string;
  legacyHost?: string;
  legacyCa?: string;
  percent?: number;
  newPaths?: string[];
  sticky?: boolean;
  fallbackErrorRate?: number | null;
}

export const presentCutover = (r: CutoverRow): Cutover => ({
  service: `${r.department_code}/${r.slug}`,
  legacyUrl: r.legacy_url,
  legacyHost: r.legacy_host,
  legacyCa: r.legacy_ca !== null,
  percent: r.percent,
  newPaths: r.new_paths,
  sticky: r.sticky,
  fallbackErrorRate: r.fallback_error_rate,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
});

/** The row as the router's route table carries it. */
export function routeCutover(r: CutoverRow): RouteCutover {
  const c: RouteCutover = { legacyUrl: r.legacy_url, percent: r.percent };
  if (r.legacy_host !== null) c.legacyHost = r.legacy_host;
  if (r.legacy_ca !== null) c.legacyCa = r.legacy_ca;
  if (r.new_paths.length > 0) c.newPaths = r.new_paths;
  if (r.sticky) c.sticky = true;
  return c;
}

const notFound = (key: string) =>
  new DomainError('GOVHOST_CUTOVER_NOT_FOUND', `${key} fronts no legacy upstream`);

/**
 * Refuses a legacy upstream that GOVHOST_LEGACY_ALLOW does not list (the webhook allow-list's
 * code, stricter: listed hosts and networks only), and, even when listed, a port the platform
 * itself listens on at one of its own addresses: allowing 127.0.0.1 for a legacy server on this
 * machine must not let a cut-over reach the API or the router's admin port.
 */
export async function checkLegacyUpstream(deps: Pick<CutoverDeps, 'config' | 'resolve'>, legacyUrl: string) {
  const { config } = deps;
  const policy = new WebhookPolicy(config.legacyAllow, deps.resolve, {
    subject: 'a legacy upstream',
    variable: 'GOVHOST_LEGACY_ALLOW',
    listedOnly: true,
  });
  const url = new URL(legacyUrl);
  try {
    // A listed host name passes as it is (no look-up), as it does for webhooks.
    await policy.check(url);
  } catch (err) {
    if (err instanceof WebhookTargetError) throw new DomainError('GOVHOST_LEGACY_FORBIDDEN', err.message);
    throw err;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : ((await (deps.resolve ?? systemResolve)(host).catch(() => [])) as { address: string }[]).map(
        (a) => a.address,
      );
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const own = [config.port, config.routerPort, config.routerAdminPort].filter((p) => p > 0);
  const ours = (a: string) =>
    ['a loopback address', 'the unspecified address'].includes(internalKind(a) ?? '') || a === config.host;
  if (own.includes(port) && addresses.some(ours)) {
    throw new DomainError(
      'GOVHOST_LEGACY_FORBIDDEN',
      `${url.host} is one of the platform's own ports (${own.join(', ')}): a legacy upstream may never be`,
    );
  }
}

/** The caller's view of a service's cut-over (a department user sees only its own services'). */
export async function getCutover(deps: CutoverDeps, caller: Caller, department: string, slug: string) {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'service:read');
  const row = await repo.find(deps.db, departmentScope(caller), svc.id);
  if (!row) throw notFound(`${department}/${slug}`);
  return presentCutover(row);
}

/** Checks a cut-over as the router will (one message per problem), then the allow-list. */
async function validate(deps: CutoverDeps, input: CutoverInput): Promise<RouteCutover> {
  const errors: string[] = [];
  const { fallbackErrorRate: _f, ...routed } = input;
  const cutover = parseCutover({ percent: 0, ...routed }, 'cutover', errors);
  if (!cutover) throw new DomainError('GOVHOST_CUTOVER_INVALID', errors.join('; '));
  await checkLegacyUpstream(deps, cutover.legacyUrl);
  return cutover;
}

async function change(
  deps: CutoverDeps,
  ctx: AuditContext,
  serviceId: string,
  action: string,
  apply: (trx: Executor, before: CutoverRow | undefined) => Promise<void>,
): Promise<Cutover | null> {
  const out = await deps.db.transaction().execute(async (trx) => {
    const before = await repo.find(trx, null, serviceId, true);
    await apply(trx, before);
    const after = await repo.find(trx, null, serviceId);
    await recordChange(trx, ctx, {
      action,
      targetType: 'cutover',
      targetId: serviceId,
      departmentId: (after ?? before)!.department_id,
      before: before ? presentCutover(before) : null,
      after: after ? presentCutover(after) : null,
    });
    return after ? presentCutover(after) : null;
  });
  await deps.onChange?.();
  return out;
}

/** Fronts a service with its legacy upstream, or changes how (operators only). */
export async function setCutover(
  deps: CutoverDeps,
  caller: Caller,
  department: string,
  slug: string,
  input: CutoverInput,
): Promise<Cutover> {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'migration:cutover');
  const c = await validate(deps, input);
  return (await change(deps, auditContext(caller), svc.id, 'cutover.set', async (trx) => {
    await repo.upsert(trx, {
      service_id: svc.id,
      department_id: svc.department_id,
      legacy_url: c.legacyUrl,
      legacy_host: c.legacyHost ?? null,
      legacy_ca: c.legacyCa ?? null,
      percent: c.percent,
      new_paths: c.newPaths ?? [],
      sticky: c.sticky ?? false,
      fallback_error_rate: input.fallbackErrorRate ?? null,
      updated_by: caller.username,
    });
  })) as Cutover;
}

/**
 * Moves the share of the new release to `percent` (0 is the instant fallback: everything to the
 * legacy service with the next route table). Operators only; audited as `cutover.shift` or
 * `cutover.back`.
 */
export async function shiftCutover(
  deps: CutoverDeps,
  caller: Caller,
  department: string,
  slug: string,
  percent: number,
): Promise<Cutover> {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'migration:cutover');
  if (!Number.isInteger(percent) || percent < 0 || percent > 100)
    throw new DomainError(
      'GOVHOST_CUTOVER_INVALID',
      `percent must be a whole number from 0 to 100, got ${percent}`,
    );
  const action = percent === 0 ? 'cutover.back' : 'cutover.shift';
  return (await change(deps, auditContext(caller), svc.id, action, async (trx, before) => {
    if (!before) throw notFound(`${department}/${slug}`);
    await repo.setPercent(trx, svc.id, percent, caller.username);
  })) as Cutover;
}

/** Stops fronting the legacy upstream: every request goes to the new release (operators only). */
export async function removeCutover(deps: CutoverDeps, caller: Caller, department: string, slug: string) {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'migration:cutover');
  await change(deps, auditContext(caller), svc.id, 'cutover.remove', async (trx, before) => {
    if (!before) throw notFound(`${department}/${slug}`);
    await repo.remove(trx, svc.id);
  });
}

/**
 * The automatic fallback: all traffic back to the legacy service, audited under the platform's
 * name with the reason. Returns false when there was nothing to shift (no cut-over, already 0 %).
 */
export async function fallBack(deps: CutoverDeps, serviceId: string, reason: string): Promise<boolean> {
  const row = await repo.find(deps.db, null, serviceId);
  if (!row || row.percent === 0) return false;
  const ctx = { actorId: null, actorName: `govhost fallback: ${reason}`, requestId: null };
  await change(deps, ctx, serviceId, 'cutover.back', async (trx) => {
    await repo.setPercent(trx, serviceId, 0, 'govhost (automatic fallback)');
  });
  return true;
}

/**
 * Every service's cut-over for the route table, each checked against the allow-list as it is now
 * (an operator may have narrowed it since): one no longer allowed is left out, and said.
 * @example (await routedCutovers(deps, log.warn)).get(serviceId) // { legacyUrl, percent: 10 }
 */
export async function routedCutovers(
  deps: Pick<CutoverDeps, 'db' | 'config' | 'resolve'>,
  refused: (serviceKey: string, why: string) => void,
): Promise<Map<string, RouteCutover>> {
  const out = new Map<string, RouteCutover>();
  for (const r of await repo.all(deps.db)) {
    try {
      await checkLegacyUpstream(deps, r.legacy_url);
      out.set(r.service_id, routeCutover(r));
    } catch (err) {
      refused(`${r.department_code}/${r.slug}`, (err as Error).message);
    }
  }
  return out;
}

/** Every cut-over, for the watch that compares legacy and new and applies the fallback rule. */
export const allCutovers = (db: Db): Promise<CutoverRow[]> => repo.all(db);
