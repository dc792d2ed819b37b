import { X509Certificate } from 'node:crypto';
import type * as acme from 'acme-client';
import type { Db } from '../platform/database.ts';
import { repeatEvery } from '../platform/repeat.ts';
import type { SecretBox } from '../platform/secrets.ts';
// The ACME client and its crypto libraries load only when a certificate is due: most starts never
// need them, and they cost a quarter of a second of every start.
import type { AcmeCaSettings } from './acme.client.ts';
import * as repo from './acme.repository.ts';

const DAY_MS = 86_400_000;

/**
 * Where issued certificates go: the certificate store implements it (it seals the key, checks the
 * chain and puts the certificate into the published route table).
 */
export interface CertificateSink {
  save(cert: { hostname: string; chainPem: string; keyPem: string; source: 'acme' }): Promise<void>;
}

/**
 * How trouble with a certificate reaches people: the composition root wires it to the platform's
 * alerts (and through them incidents and notifications). `failed` fires on each failed order;
 * `expiring` while a certificate is within the alert window; `healthy` once neither holds.
 */
export interface AcmeAlerts {
  failed(hostname: string, message: string): Promise<void>;
  expiring(hostname: string, notAfter: Date, message: string): Promise<void>;
  healthy(hostname: string): Promise<void>;
}

export interface AcmeJobSettings extends AcmeCaSettings {
  /** A certificate within this many days of expiry is renewed (default 30). */
  renewBeforeDays: number;
  /** A certificate within this many days of expiry raises an alert (default 14). */
  alertBeforeDays: number;
  /** First wait after a failed order; it doubles with each failure in a row, up to `backoffMaxMs`. */
  backoffMs: number;
  backoffMaxMs: number;
}

export interface AcmeJobDeps {
  db: Db;
  box: SecretBox;
  settings: AcmeJobSettings;
  /** The hosts that should have an ACME certificate (platform hostnames, approved custom domains). */
  hosts(): Promise<string[]>;
  sink: CertificateSink;
  alerts: AcmeAlerts;
  /**
   * Called after a challenge is added or withdrawn; resolves once the routers have the new table
   * (the runtime republishes it at once), so the CA is only told to check once they can answer.
   */
  challengesChanged(): Promise<void>;
  /** The clock renewals are judged by (tests move it). */
  now?: () => Date;
}

/** What a round did, for logs and tests. */
export interface RoundReport {
  issued: string[];
  failed: { hostname: string; error: string }[];
}

/** The tokens and key authorizations the routers must answer, for the route table. */
export async function pendingAcmeChallenges(db: Db): Promise<{ token: string; keyAuthorization: string }[]> {
  const rows = await repo.listChallenges(db);
  return rows.map((r) => ({ token: r.token, keyAuthorization: r.key_authorization }));
}

/** Why a host needs an order now, or null while its certificate is good and no retry is due. */
function due(order: repo.AcmeOrderRow | undefined, now: Date, renewBeforeDays: number): string | null {
  if (order?.next_attempt_at && order.next_attempt_at > now) return null;
  if (!order?.not_after) return 'no certificate yet';
  if (order.not_after.getTime() - now.getTime() <= renewBeforeDays * DAY_MS) return 'expiry is near';
  return null;
}

/**
 * One round of the job: orders a certificate for every host that has none and renews those near
 * expiry, records each outcome (with a doubling backoff after failures), and raises or clears the
 * alerts. Run on one replica at a time (under the runtime lease).
 */
export async function runAcmeRound(deps: AcmeJobDeps): Promise<RoundReport> {
  const now = deps.now ?? (() => new Date());
  const { settings, db } = deps;
  const report: RoundReport = { issued: [], failed: [] };
  let client: acme.Client | null = null;
  let ca: typeof import('./acme.client.ts') | null = null;
  for (const hostname of [...new Set(await deps.hosts())].sort()) {
    const order = await repo.findOrder(db, hostname);
    if (due(order, now(), settings.renewBeforeDays)) {
      try {
        ca ??= await import('./acme.client.ts');
        client ??= await ca.acmeClient(db, deps.box, settings);
        const cert = await ca.orderCertificate(client, hostname, settings.email, {
          answer: async (token, keyAuthorization) => {
            await repo.putChallenge(db, { token, key_authorization: keyAuthorization, hostname });
            await deps.challengesChanged();
          },
          withdraw: async (token) => {
            await repo.removeChallenge(db, token);
            await deps.challengesChanged();
          },
        });
        await deps.sink.save({ hostname, ...cert, source: 'acme' });
        const at = now();
        await repo.putOrder(db, {
          hostname,
          state: 'valid',
          not_after: new Date(new X509Certificate(cert.chainPem).validTo),
          issued_at: at,
          last_error: null,
          failures: 0,
          next_attempt_at: null,
          updated_at: at,
        });
        report.issued.push(hostname);
      } catch (err) {
        const error = (err as Error).message || String(err);
        const failures = (order?.failures ?? 0) + 1;
        const wait = Math.min(settings.backoffMs * 2 ** (failures - 1), settings.backoffMaxMs);
        const at = now();
        await repo.putOrder(db, {
          hostname,
          state: 'failed',
          not_after: order?.not_after ?? null,
          issued_at: order?.issued_at ?? null,
          last_error: error,
          failures,
          next_attempt_at: new Date(at.getTime() + wait),
          updated_at: at,
        });
        report.failed.push({ hostname, error });
        await deps.alerts.failed(
          hostname,
          `ACME ${order?.not_after ? 'renewal' : 'issuance'} for ${hostname} failed (${failures} in a row): ${error}`,
        );
      }
    }
    await checkExpiry(deps, hostname, now());
  }
  return report;
}

/**
 * Raises the expiry alert while the certificate in use is within the window (whether or not its
 * renewal failed), and clears the host's alerts once it is valid and outside it.
 */
async function checkExpiry(deps: AcmeJobDeps, hostname: string, now: Date): Promise<void> {
  const order = await repo.findOrder(deps.db, hostname);
  if (!order?.not_after) return;
  const left = order.not_after.getTime() - now.getTime();
  if (left <= deps.settings.alertBeforeDays * DAY_MS) {
    const days = Math.max(0, Math.floor(left / DAY_MS));
    await deps.alerts.expiring(
      hostname,
      order.not_after,
      `the certificate of ${hostname} expires in ${days} days (${order.not_after.toISOString()})`,
    );
  } else if (order.state === 'valid') {
    await deps.alerts.healthy(hostname);
  }
}

/**
 * Runs rounds every `everyMs` (one at a time) until stopped; a round that throws is logged and the
 * next one tries again.
 */
export function startAcmeJob(
  deps: AcmeJobDeps,
  opts: { everyMs: number; log: { error(obj: object, msg: string): void } },
): { stop(): Promise<void> } {
  return repeatEvery(() => runAcmeRound(deps), {
    everyMs: opts.everyMs,
    what: 'acme: the round',
    log: opts.log,
  });
}
