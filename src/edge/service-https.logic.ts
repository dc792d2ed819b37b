import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
import * as repo from './certificates.repository.ts';

/** A service's HTTPS behaviour at the router: both on unless its department turns one off. */
export interface ServiceHttps {
  /** Plain-HTTP requests get a redirect to HTTPS (a certificate must cover the host). */
  httpsRedirect: boolean;
  /** HTTPS answers carry Strict-Transport-Security. */
  hsts: boolean;
}

const DEFAULTS: ServiceHttps = { httpsRedirect: true, hsts: true };

export async function getServiceHttps(
  db: Db,
  caller: Principal,
  department: string,
  slug: string,
): Promise<ServiceHttps> {
  const svc = await resolveService(db, caller, department, slug);
  authorize(caller, 'service:read');
  const row = await repo.findHttps(db, svc.id);
  return row ? { httpsRedirect: row.https_redirect, hsts: row.hsts } : { ...DEFAULTS };
}

/** True unless the service's department turned its plain-HTTP redirect off (the router redirects once a certificate covers the host). */
export async function httpsRedirectOn(db: Db, serviceId: string): Promise<boolean> {
  return (await repo.findHttps(db, serviceId))?.https_redirect ?? DEFAULTS.httpsRedirect;
}

/** Changes a service's HTTPS settings (its department's admins and developers, operators), audited. */
export async function setServiceHttps(
  deps: { db: Db; changed?: () => Promise<void> },
  caller: Caller,
  department: string,
  slug: string,
  patch: Partial<ServiceHttps>,
): Promise<ServiceHttps> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const svc = await resolveService(trx, caller, department, slug);
    authorize(caller, 'service:write');
    const row = await repo.findHttps(trx, svc.id);
    const before = row ? { httpsRedirect: row.https_redirect, hsts: row.hsts } : { ...DEFAULTS };
    const after = { ...before, ...patch };
    await repo.saveHttps(trx, svc.id, { https_redirect: after.httpsRedirect, hsts: after.hsts });
    await recordChange(trx, auditContext(caller), {
      action: 'service.https',
      targetType: 'service',
      targetId: `${svc.department_code}/${svc.slug}`,
      departmentId: svc.department_id,
      before,
      after,
    });
    return after;
  });
  await deps.changed?.();
  return result;
}

/**
 * Per service id, the HTTPS settings that are off: what routes carry (`httpsRedirect: false`,
 * `hsts: false`); a service absent here keeps both on.
 */
export async function httpsForRoutes(db: Db): Promise<Map<string, Partial<ServiceHttps>>> {
  const out = new Map<string, Partial<ServiceHttps>>();
  for (const r of await repo.httpsOff(db)) {
    out.set(r.service_id, {
      ...(r.https_redirect ? {} : { httpsRedirect: false }),
      ...(r.hsts ? {} : { hsts: false }),
    });
  }
  return out;
}
