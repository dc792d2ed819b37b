/**
 * Expiry of operators' uploaded certificates. ACME renews what it issued and alerts on its own
 * failures (acme.job.ts); an uploaded certificate (a department's wildcard) is renewed by people,
 * often on a closed network where no ACME CA is reachable, so the platform warns them in time: the
 * `certificate` alert on each service whose host it covers, from GOVHOST_ACME_ALERT_DAYS before
 * expiry, resolved once a later certificate is uploaded.
 */
import type { Db } from '../platform/database.ts';
import { repeatEvery } from '../platform/repeat.ts';
import type { AcmeAlerts } from './acme.job.ts';
import { platformHostnames } from './acme.start.ts';
import * as repo from './certificates.repository.ts';
import { approvedHostnames } from './domains.logic.ts';
import { nameCovers } from './hostname.ts';

const DAY_MS = 86_400_000;

/** What one check found: hosts inside the window (or past expiry), and hosts whose cover is fine. */
export interface ExpiryReport {
  expiring: string[];
  healthy: string[];
}

/**
 * For every served host (active services' platform names, approved custom names) that an uploaded
 * certificate covers, takes the covering upload that lasts longest, and raises `expiring` when it
 * ends within `alertBeforeDays` (or has ended) or `healthy` otherwise.
 */
export async function checkUploadedExpiry(
  db: Db,
  opts: { domain: string; alertBeforeDays: number; alerts: AcmeAlerts; now?: Date },
): Promise<ExpiryReport> {
  const now = opts.now ?? new Date();
  const uploads = (await repo.listCertificates(db)).filter((c) => c.source === 'uploaded');
  const report: ExpiryReport = { expiring: [], healthy: [] };
  if (uploads.length === 0) return report;
  const hosts = [
    ...(await platformHostnames(db, opts.domain)),
    ...[...(await approvedHostnames(db)).values()].flat(),
  ];
  for (const host of [...new Set(hosts)].sort()) {
    let last: Date | null = null;
    for (const c of uploads)
      if (c.names.some((n) => nameCovers(n, host)) && (!last || c.not_after > last)) last = c.not_after;
    if (!last) continue;
    const left = last.getTime() - now.getTime();
    if (left > opts.alertBeforeDays * DAY_MS) {
      await opts.alerts.healthy(host);
      report.healthy.push(host);
      continue;
    }
    const when =
      left > 0
        ? `expires in ${Math.floor(left / DAY_MS)} days (${last.toISOString()})`
        : `expired on ${last.toISOString()}`;
    await opts.alerts.expiring(host, last, `the uploaded certificate of ${host} ${when}: upload its renewal`);
    report.expiring.push(host);
  }
  return report;
}

/** Runs the check now and then every `everyMs` until stopped; a failure is logged. */
export function startUploadedExpiryCheck(
  db: Db,
  opts: { domain: string; alertBeforeDays: number; alerts: AcmeAlerts; everyMs: number },
  log: { error(obj: object, msg: string): void },
): { stop(): Promise<void> } {
  return repeatEvery(() => checkUploadedExpiry(db, opts), {
    everyMs: opts.everyMs,
    what: 'the certificate expiry check',
    log,
  });
}
