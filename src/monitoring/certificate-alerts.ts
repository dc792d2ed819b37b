/**
 * Alerts about a service's certificate, raised by the edge's ACME job (which may not import
 * monitoring: the composition root hands it `certificateAlerts`). They go the way the probes'
 * alerts go: an alert row, an incident, and the incident's notifications to the department's
 * channels and the console.
 */
import * as services from '../catalog/service.repository.ts';
import { approvedHostnames } from '../edge/domains.logic.ts';
import type { Db } from '../platform/database.ts';
import * as departments from '../tenancy/department.repository.ts';
import * as alerts from './alert.repository.ts';
import type { Severity } from './alert-rules.ts';
import { openForAlert, resolveForAlert } from './incident.logic.ts';

/** Not one of the probes' rules (RULE_NAMES): no threshold or override, the ACME job decides. */
export const CERTIFICATE_RULE = 'certificate';

/** A failed order leaves the site on its old certificate (or none yet): P2. Expiry near: P3. */
const FAILED: Severity = 'P2';
const EXPIRING: Severity = 'P3';

interface ServiceRef {
  id: string;
  departmentId: string;
  key: string;
}

/**
 * The service a host belongs to: its platform hostname (`<service>.<dept>.<domain>`) or an
 * approved custom domain (decision 032); null for neither.
 */
async function serviceOfHost(db: Db, hostname: string, domain: string): Promise<ServiceRef | null> {
  const suffix = `.${domain}`;
  const labels = hostname.endsWith(suffix) ? hostname.slice(0, -suffix.length).split('.') : [];
  if (labels.length === 2) {
    const [slug, code] = labels as [string, string];
    const dept = await departments.findByCode(db, null, code.toUpperCase());
    const svc = dept ? await services.find(db, null, dept.id, slug) : undefined;
    if (dept && svc) return { id: svc.id, departmentId: dept.id, key: `${dept.code}/${slug}` };
  }
  for (const [serviceId, hosts] of await approvedHostnames(db)) {
    if (!hosts.includes(hostname)) continue;
    const svc = await services.findById(db, serviceId);
    return svc
      ? { id: svc.id, departmentId: svc.department_id, key: `${svc.department_code}/${svc.slug}` }
      : null;
  }
  return null;
}

async function raise(db: Db, svc: ServiceRef, severity: Severity, message: string, at: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const firing = (await alerts.firingAlerts(tx, null, svc.id)).find((a) => a.rule === CERTIFICATE_RULE);
    // One firing alert per service and rule: a repeated failure joins it (its incident stays open).
    if (firing) return;
    const alert = await alerts.insertAlert(tx, {
      service_id: svc.id,
      department_id: svc.departmentId,
      service_key: svc.key,
      rule: CERTIFICATE_RULE,
      state: 'firing',
      value: null,
      threshold: null,
      message,
      started_at: at,
      resolved_at: null,
    });
    await openForAlert(tx, alert, severity);
  });
}

/**
 * The ACME job's alerts (its `AcmeAlerts`) on the platform's alert path, for platform hostnames.
 * `unmatched` hears of hosts no service is found for (a service removed since its order).
 */
export function certificateAlerts(
  db: Db,
  domain: string,
  unmatched: (hostname: string, message: string) => void = () => {},
) {
  const withService = async (hostname: string, message: string, act: (svc: ServiceRef) => Promise<void>) => {
    const svc = await serviceOfHost(db, hostname, domain);
    if (svc) await act(svc);
    else unmatched(hostname, message);
  };
  return {
    failed: (hostname: string, message: string) =>
      withService(hostname, message, (svc) => raise(db, svc, FAILED, message, new Date())),
    expiring: (hostname: string, _notAfter: Date, message: string) =>
      withService(hostname, message, (svc) => raise(db, svc, EXPIRING, message, new Date())),
    healthy: (hostname: string) =>
      withService(hostname, '', async (svc) => {
        const at = new Date();
        await db.transaction().execute(async (tx) => {
          if (!(await alerts.resolveAlert(tx, svc.id, CERTIFICATE_RULE, at))) return;
          await resolveForAlert(tx, svc.id, CERTIFICATE_RULE, at, `the certificate of ${hostname} is valid`);
        });
      }),
  };
}
