import { serviceHostname } from '../catalog/service.logic.ts';
import * as services from '../catalog/service.repository.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import type { SecretBox } from '../platform/secrets.ts';
import {
  type AcmeAlerts,
  type AcmeJobSettings,
  type CertificateSink,
  pendingAcmeChallenges,
  startAcmeJob,
} from './acme.job.ts';

/** How often the job looks for hosts without a certificate or near expiry. */
const ROUND_EVERY_MS = 10 * 60_000;
/** First wait after a failed order (doubling per failure in a row), and the longest. */
const BACKOFF_MS = 5 * 60_000;
const BACKOFF_MAX_MS = 24 * 3_600_000;

/** The job's settings from the platform's configuration, or null when ACME is off. */
export function acmeSettingsOf(config: Config): AcmeJobSettings | null {
  if (!config.acmeDirectoryUrl) return null;
  return {
    directoryUrl: config.acmeDirectoryUrl,
    email: config.acmeEmail,
    caFile: config.acmeCaFile,
    renewBeforeDays: config.acmeRenewBeforeDays,
    alertBeforeDays: config.acmeAlertBeforeDays,
    backoffMs: BACKOFF_MS,
    backoffMaxMs: BACKOFF_MAX_MS,
  };
}

/** The platform hostname of every active service: the hosts that get an ACME certificate (decision 033). */
export async function platformHostnames(db: Db, domain: string): Promise<string[]> {
  const hosts: string[] = [];
  for (let offset = 0; ; offset += 500) {
    const { items, total } = await services.list(db, null, { limit: 500, offset }, { lifecycle: 'active' });
    hosts.push(...items.map((s) => serviceHostname(s.slug, s.department_code, domain)));
    if (offset + items.length >= total || items.length === 0) return hosts;
  }
}

/**
 * Starts the ACME job on the runtime lease's holder (src/server/start.ts), or returns null when
 * GOVHOST_ACME_DIRECTORY_URL is unset. `publish` puts the challenges into the route table the
 * routers get (the runtime's `publishAcmeChallenges`); `extraHosts` adds approved custom domains.
 */
export function startAcme(opts: {
  config: Config;
  db: Db;
  box: SecretBox;
  sink: CertificateSink;
  alerts: AcmeAlerts;
  publish(challenges: { token: string; keyAuthorization: string }[]): Promise<void>;
  extraHosts?: () => Promise<string[]>;
  log: { error(obj: object, msg: string): void };
}): { stop(): Promise<void> } | null {
  const settings = acmeSettingsOf(opts.config);
  if (!settings) return null;
  const { db } = opts;
  return startAcmeJob(
    {
      db,
      box: opts.box,
      settings,
      hosts: async () => [
        ...(await platformHostnames(db, opts.config.domain)),
        ...((await opts.extraHosts?.()) ?? []),
      ],
      sink: opts.sink,
      alerts: opts.alerts,
      challengesChanged: async () => opts.publish(await pendingAcmeChallenges(db)),
    },
    { everyMs: ROUND_EVERY_MS, log: opts.log },
  );
}
