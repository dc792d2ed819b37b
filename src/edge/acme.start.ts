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
import { type CertificateDeps, storeCertificate, uploadedNamesValidUntil } from './certificates.logic.ts';
import { approvedHostnames } from './domains.logic.ts';
import { nameCovers } from './hostname.ts';

/** First wait after a failed order (doubling per failure in a row), and the longest. */
const BACKOFF_MS = 5 * 60_000;
const BACKOFF_MAX_MS = 24 * 3_600_000;
const DAY_MS = 86_400_000;

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
 * The hosts ACME looks after: every active service's platform name and every approved custom
 * domain (decision 032), less those an operator's uploaded certificate (a department's wildcard,
 * say) covers beyond the renewal window; that certificate is the operators' to renew.
 */
export async function acmeHosts(db: Db, domain: string, renewBeforeDays: number, now = new Date()) {
  const uploaded = await uploadedNamesValidUntil(db, new Date(now.getTime() + renewBeforeDays * DAY_MS));
  const custom = [...(await approvedHostnames(db)).values()].flat();
  return [...(await platformHostnames(db, domain)), ...custom].filter(
    (host) => !uploaded.some((name) => nameCovers(name, host)),
  );
}

/**
 * Where issued certificates go: the certificate store, checked as an upload is (key, chain,
 * dates, the host covered) and audited as `acme`; the store then has the route table published.
 */
export function certificateStoreSink(deps: CertificateDeps): CertificateSink {
  const actor = { actorId: null, actorName: 'acme', requestId: null };
  return {
    save: async (c) => {
      await storeCertificate(deps, actor, {
        chain: c.chainPem,
        key: c.keyPem,
        host: c.hostname,
        source: c.source,
      });
    },
  };
}

/**
 * Starts the ACME job on the runtime lease's holder (src/server/start.ts), or returns null when
 * GOVHOST_ACME_DIRECTORY_URL is unset. `publish` puts the challenges into the route table the
 * routers get (the runtime's `publishAcmeChallenges`); `sink` takes the certificates.
 */
export function startAcme(opts: {
  config: Config;
  db: Db;
  box: SecretBox;
  sink: CertificateSink;
  alerts: AcmeAlerts;
  publish(challenges: { token: string; keyAuthorization: string }[]): Promise<void>;
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
      hosts: () => acmeHosts(db, opts.config.domain, settings.renewBeforeDays),
      sink: opts.sink,
      alerts: opts.alerts,
      challengesChanged: async () => opts.publish(await pendingAcmeChallenges(db)),
    },
    // How often the job looks for hosts without a certificate or near expiry.
    { everyMs: opts.config.acmeRoundSeconds * 1000, log: opts.log },
  );
}
