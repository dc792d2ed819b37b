import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseNetwork } from './ip.ts';

/** The platform's whole configuration: parsed once at start, validated, frozen, passed down. */
export interface Config {
  /** Folder for PGlite's data and the platform's own files. */
  readonly dataDir: string;
  /** When set, PostgreSQL at this URL instead of the embedded PGlite. */
  readonly databaseUrl: string | null;
  /** Address the API and console listen on. */
  readonly host: string;
  readonly port: number;
  /** Platform domain: services are served at `<service>.<dept>.<domain>`. */
  readonly domain: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest request body the API accepts, in bytes. */
  readonly bodyLimit: number;
  /** Largest bundle (compressed) a deploy may upload, in bytes. */
  readonly bundleLimit: number;
  /** Where citizens' traffic enters: the router's address. */
  readonly routerHost: string;
  readonly routerPort: number;
  /** Loopback port of the router's admin API, used by the control plane only. */
  readonly routerAdminPort: number;
  /**
   * Load balancers in front of the router (addresses, CIDRs): their X-Forwarded-*, Forwarded and
   * X-Real-IP headers are extended; from anyone else the router replaces or drops them.
   */
  readonly routerTrustedProxies: readonly string[];
  /** Folder for the services' working copies; default `<dataDir>/apps`. */
  readonly appsDir: string | null;
  /** base64 of 32 bytes; default: a key file in the data folder. */
  readonly secretKey: string | null;
  /**
   * base64 of 32 bytes: the key of the audit chain's HMAC, which the database must not hold;
   * default: `audit.key` in the data folder. Every control-plane replica needs the same one.
   */
  readonly auditKey: string | null;
  /** Milliseconds between two probes of a service through the router (default 10 s). */
  readonly probeIntervalMs: number;
  /** Milliseconds a probe may take before it counts as failed. */
  readonly probeTimeoutMs: number;
  /** Days of per-minute metrics kept; older minutes are deleted (daily figures stay). */
  readonly metricsRetentionDays: number;
  /** SMTP server for e-mail notifications, e.g. `smtp://mail.gov.example:587`; none: e-mail off. */
  readonly smtpUrl: string | null;
  /** Sender address of notification e-mails. */
  readonly mailFrom: string;
  /**
   * Hosts and networks webhooks may reach although they are internal (loopback, private,
   * link-local, …): lower-case host names, addresses and CIDRs. Empty: none, the safe default.
   */
  readonly webhookAllow: readonly string[];
  /**
   * Hosts and networks a service may front as its legacy upstream during a migration's cut-over
   * (decision 035): lower-case host names, addresses and CIDRs. Empty: no cut-over can be set.
   */
  readonly legacyAllow: readonly string[];
  /** Days console notifications and finished outbox rows are kept (incident timelines stay). */
  readonly notificationRetentionDays: number;
  /**
   * Start of the names of this install's service users (OS users, made when the platform runs as
   * root); default `gh` and 6 hex digits from the data folder, and a dash, e.g. `gh1a2b3c-`.
   */
  readonly serviceUserPrefix: string | null;
  /** Range of uids service users get (ids the OS already gives to anyone are skipped). */
  readonly serviceUidMin: number;
  readonly serviceUidMax: number;
  /** npm registry builds install from (a mirror in a closed network); null: npm's own default. */
  readonly npmRegistry: string | null;
  /** pip index URL builds install from (PEP 503); null: pip's own default. */
  readonly pipIndexUrl: string | null;
  /** Interpreter that makes Python apps' virtual environments (Debian's, not a user's pyenv). */
  readonly buildPython: string;
  /** Limits of one staging (building a droplet): memory, CPUs, wall-clock time, scratch disk. */
  readonly buildMemoryMb: number;
  readonly buildCpus: number;
  readonly buildTimeoutSec: number;
  readonly buildDiskMb: number;
  /** Bytes the dependency cache may hold (all departments); least recently used entries go first. */
  readonly buildCacheBytes: number;
  /** Where services run: `local` (processes on this host) or `kubernetes` (pods in a cluster). */
  readonly runtime: 'local' | 'kubernetes';
  /** Kubeconfig file of the cluster; null: the pod's in-cluster service account. */
  readonly kubeconfig: string | null;
  /** Image that runs droplets, per builder (`node` → `node:20-bookworm-slim`). */
  readonly k8sStackImages: Readonly<Record<string, string>>;
  /** Image of the init container that fetches and checks droplets (wget, sha256sum, tar). */
  readonly k8sFetchImage: string;
  /** The control plane's address as pods reach it, for their droplet URLs. */
  readonly k8sControlPlaneUrl: string;
  /** GovHost's own image, which staging Jobs run (`govhost stage-job`). */
  readonly k8sStagerImage: string;
  /**
   * Where bundles and droplets are kept: `data-dir` (the data folder, one machine) or `postgres`
   * (the platform's database, which every control-plane replica reaches).
   */
  readonly blobStore: 'data-dir' | 'postgres';
  /**
   * Routers one replica keeps waiting on `GET /runtime/routes` at once; the next is told 429 with
   * Retry-After (decision 028).
   */
  readonly routeStreamWaiters: number;
  /** ACME directory certificates are ordered from (RFC 8555, https); null: ACME off. */
  readonly acmeDirectoryUrl: string | null;
  /** Contact address of the platform's ACME account (the CA's expiry notices go there). */
  readonly acmeEmail: string | null;
  /** PEM file of CAs trusted for the ACME directory's own HTTPS (a private CA); used by the ACME client only. */
  readonly acmeCaFile: string | null;
  /** A certificate within this many days of expiry is renewed. */
  readonly acmeRenewBeforeDays: number;
  /** A certificate within this many days of expiry raises an alert (its renewal has not worked). */
  readonly acmeAlertBeforeDays: number;
  /** Seconds between the ACME job's rounds (a new service or approved domain waits up to this). */
  readonly acmeRoundSeconds: number;
  /**
   * Whether approving a custom host name first requires the TXT record
   * `_govhost-challenge.<hostname>` to hold the claim's token (decision 032).
   */
  readonly domainTxtCheck: boolean;
  /** DNS server (`host:port`) the TXT check asks; null: the system's resolvers. */
  readonly dnsResolver: string | null;
  /** The support desk's business hours, e.g. `Mon-Fri 09:00-18:00 Asia/Hong_Kong` (decision 037). */
  readonly supportHours: string;
  /** Holidays beyond the Hong Kong general holidays in the source (YYYY-MM-DD). */
  readonly supportHolidays: readonly string[];
  /** Seconds between two rounds of the support desk's SLA check. */
  readonly supportCheckSeconds: number;
  /** Days after its resolution a ticket may be reopened; after that, a new ticket is raised. */
  readonly supportReopenDays: number;
  /** The sandbox payment provider test-mode payments go to (docs/payments.md); null: none. */
  readonly paymentsSandboxUrl: string | null;
  /** Minutes after which a payment the citizen has not paid expires (docs/payments.md). */
  readonly paymentsExpiryMinutes: number;
  /**
   * The provider live payments go to: the https URL of a real acquirer's adapter speaking the
   * provider contract, or `sandbox`, the sandbox standing in (rehearsals and tests only; no real
   * money moves). Null: no live provider, and no live payment key (decision 049).
   */
  readonly paymentsLiveProviderUrl: string | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, string | number | undefined>;

interface FieldSpec {
  env: string;
  file: keyof Config;
  parse: (raw: string) => unknown;
  describe: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw)) throw new Error(`must be a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function hostName(raw: string): string {
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(raw)) throw new Error('must be a host name or IP address');
  return raw;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/;

/** `GOVHOST_WEBHOOK_ALLOW`, `GOVHOST_LEGACY_ALLOW`: comma-separated host names, addresses and CIDR networks. */
/** `Mon-Fri 09:00-18:00 Asia/Hong_Kong`: the support capability reads it; checked here at start. */
function businessHours(raw: string): string {
  const m = /^([A-Za-z]{3}(?:[-,][A-Za-z]{3})*) ([0-2]\d):([0-5]\d)-([0-2]\d):([0-5]\d) (\S+)$/.exec(
    raw.trim(),
  );
  if (!m) throw new Error('must look like "Mon-Fri 09:00-18:00 Asia/Hong_Kong"');
  if (`${m[2]}${m[3]}` >= `${m[4]}${m[5]}`) throw new Error('must open before it closes');
  try {
    new Intl.DateTimeFormat('en', { timeZone: m[6] });
  } catch {
    throw new Error(`names ${JSON.stringify(m[6])}, which is not a time zone such as Asia/Hong_Kong`);
  }
  return raw.trim();
}

/** Comma-separated days, YYYY-MM-DD. */
function dayList(raw: string): string[] {
  const days = raw
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  for (const d of days) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(d)))
      throw new Error(`has ${JSON.stringify(d)}, which is not a day such as 2026-12-24`);
  }
  return days;
}

function allowList(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((e) => e.trim().toLowerCase().replace(/\.$/, ''))
    .filter((e) => e !== '');
  for (const e of entries) {
    if (parseNetwork(e)) continue;
    // Digits and dots only is a mistyped address (1.2.3), not a host name.
    if (HOST_NAME.test(e) && !/^[\d.]+$/.test(e) && !e.includes('/')) continue;
    throw new Error(
      `has ${JSON.stringify(e)}, which is not a host name, an IP address or a network such as 10.0.0.0/8`,
    );
  }
  return entries;
}

/** `GOVHOST_ROUTER_TRUSTED_PROXIES`: comma-separated addresses and CIDR networks of load balancers. */
export function parseTrustedProxies(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const e of entries) {
    if (!parseNetwork(e)) {
      throw new Error(`has ${JSON.stringify(e)}, which is not an IP address or a network such as 10.0.0.0/8`);
    }
  }
  return entries;
}

/** Said when the boolean that trusted every client's X-Forwarded-* headers is still set. */
export const TRUST_FORWARDED_REMOVED =
  'GOVHOST_ROUTER_TRUST_FORWARDED is no longer read: list the addresses or networks of the load ' +
  'balancers in front of the router in GOVHOST_ROUTER_TRUSTED_PROXIES (e.g. 10.0.0.0/8) instead';

/** A package source: an http(s) URL, possibly with credentials (kept secret: see redactUrl). */
function packageSource(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error('must be an http:// or https:// URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error('must be an http:// or https:// URL');
  return raw;
}

/** A URL fit for messages and logs: its user name and password replaced, never shown. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username === '' && u.password === '') return raw;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return '***';
  }
}

/** `builder=image,…`, e.g. `node=node:20-bookworm-slim,python=python:3.11-slim-bookworm`. */
function stackImages(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of raw
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean)) {
    const m = /^([a-z][a-z0-9-]*)=([^\s=,]+)$/.exec(item);
    if (!m) throw new Error(`must be builder=image pairs separated by commas, got ${JSON.stringify(item)}`);
    out[m[1]!] = m[2]!;
  }
  if (Object.keys(out).length === 0) throw new Error('must name at least one builder=image');
  return out;
}

function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw;
}

function onOff(raw: string): boolean {
  if (/^(on|true|1|yes)$/i.test(raw)) return true;
  if (/^(off|false|0|no)$/i.test(raw)) return false;
  throw new Error('must be on or off');
}

/** `GOVHOST_DNS_RESOLVER`: an IP address with an optional port, `127.0.0.1:5353` or `[::1]:53`. */
function resolverAddress(raw: string): string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(raw);
  const ip = m ? (m[1] ?? m[2] ?? '') : '';
  if (!m || !parseNetwork(ip) || Number(m[3] ?? 53) > 65535 || Number(m[3] ?? 53) < 1)
    throw new Error('must be an IP address with an optional port, such as 10.0.0.53:53 or [::1]:53');
  return raw;
}

const FIELDS: FieldSpec[] = [
  { env: 'GOVHOST_DATA_DIR', file: 'dataDir', parse: (r) => resolve(nonEmpty(r)), describe: 'data folder' },
  {
    env: 'DATABASE_URL',
    file: 'databaseUrl',
    parse: (r) => {
      if (!/^postgres(ql)?:\/\//.test(r)) throw new Error('must start with postgres:// or postgresql://');
      return r;
    },
    describe: 'PostgreSQL URL',
  },
  { env: 'GOVHOST_HOST', file: 'host', parse: hostName, describe: 'listen address' },
  { env: 'GOVHOST_PORT', file: 'port', parse: integer(0, 65535), describe: 'listen port' },
  {
    env: 'GOVHOST_DOMAIN',
    file: 'domain',
    parse: (r) => {
      if (!/^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(r))
        throw new Error('must be a lower-case DNS name such as gov.example');
      return r;
    },
    describe: 'platform domain',
  },
  {
    env: 'GOVHOST_LOG_LEVEL',
    file: 'logLevel',
    parse: (r) => {
      if (!(LOG_LEVELS as readonly string[]).includes(r))
        throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
      return r;
    },
    describe: 'log level',
  },
  { env: 'GOVHOST_BODY_LIMIT', file: 'bodyLimit', parse: integer(1024, 1024 ** 3), describe: 'body limit' },
  {
    env: 'GOVHOST_BUNDLE_LIMIT',
    file: 'bundleLimit',
    parse: integer(1024, 8 * 1024 ** 3),
    describe: 'bundle limit',
  },
  { env: 'GOVHOST_ROUTER_HOST', file: 'routerHost', parse: hostName, describe: 'router listen address' },
  { env: 'GOVHOST_ROUTER_PORT', file: 'routerPort', parse: integer(0, 65535), describe: 'router port' },
  {
    env: 'GOVHOST_ROUTER_ADMIN_PORT',
    file: 'routerAdminPort',
    parse: integer(0, 65535),
    describe: 'router admin port',
  },
  {
    env: 'GOVHOST_ROUTER_TRUSTED_PROXIES',
    file: 'routerTrustedProxies',
    parse: parseTrustedProxies,
    describe: 'load balancers the router trusts',
  },
  { env: 'GOVHOST_APPS_DIR', file: 'appsDir', parse: (r) => resolve(nonEmpty(r)), describe: 'apps folder' },
  {
    env: 'GOVHOST_SECRET_KEY',
    file: 'secretKey',
    parse: (r) => {
      if (Buffer.from(r, 'base64').length !== 32) throw new Error('must be the base64 encoding of 32 bytes');
      return r;
    },
    describe: 'secret key',
  },
  {
    env: 'GOVHOST_AUDIT_KEY',
    file: 'auditKey',
    parse: (r) => {
      if (Buffer.from(r, 'base64').length !== 32) throw new Error('must be the base64 encoding of 32 bytes');
      return r;
    },
    describe: 'audit chain key',
  },
  {
    env: 'GOVHOST_PROBE_INTERVAL_MS',
    file: 'probeIntervalMs',
    parse: integer(200, 3_600_000),
    describe: 'probe interval',
  },
  {
    env: 'GOVHOST_PROBE_TIMEOUT_MS',
    file: 'probeTimeoutMs',
    parse: integer(50, 60_000),
    describe: 'probe timeout',
  },
  {
    env: 'GOVHOST_METRICS_RETENTION_DAYS',
    file: 'metricsRetentionDays',
    parse: integer(1, 3650),
    describe: 'metrics retention',
  },
  {
    env: 'GOVHOST_SMTP_URL',
    file: 'smtpUrl',
    parse: (r) => {
      if (!/^smtps?:\/\/[^\s/]+/.test(r))
        throw new Error('must look like smtp://host:port or smtps://user:pass@host');
      return r;
    },
    describe: 'SMTP server',
  },
  {
    env: 'GOVHOST_MAIL_FROM',
    file: 'mailFrom',
    parse: (r) => {
      if (!/^[^\s@<>]+@[^\s@<>]+$/.test(r))
        throw new Error('must be an e-mail address such as ops@gov.example');
      return r;
    },
    describe: 'mail sender',
  },
  { env: 'GOVHOST_WEBHOOK_ALLOW', file: 'webhookAllow', parse: allowList, describe: 'webhook allow-list' },
  {
    env: 'GOVHOST_LEGACY_ALLOW',
    file: 'legacyAllow',
    parse: allowList,
    describe: 'legacy upstream allow-list',
  },
  {
    env: 'GOVHOST_NOTIFICATION_RETENTION_DAYS',
    file: 'notificationRetentionDays',
    parse: integer(1, 3650),
    describe: 'notification retention',
  },
  {
    env: 'GOVHOST_SERVICE_USER_PREFIX',
    file: 'serviceUserPrefix',
    parse: (r) => {
      // useradd's own rule for names, kept short: the uid follows it and a name has 32 characters.
      if (!/^[a-z_][a-z0-9_-]{0,15}$/.test(r))
        throw new Error('must be 1 to 16 lower-case letters, digits, _ or -, starting with a letter or _');
      return r;
    },
    describe: 'service user name prefix',
  },
  {
    env: 'GOVHOST_SERVICE_UID_MIN',
    file: 'serviceUidMin',
    parse: integer(1000, 2_000_000_000),
    describe: 'lowest service uid',
  },
  {
    env: 'GOVHOST_SERVICE_UID_MAX',
    file: 'serviceUidMax',
    parse: integer(1000, 2_000_000_000),
    describe: 'highest service uid',
  },
  {
    env: 'GOVHOST_NPM_REGISTRY',
    file: 'npmRegistry',
    parse: packageSource,
    describe: 'npm registry for builds',
  },
  {
    env: 'GOVHOST_PIP_INDEX_URL',
    file: 'pipIndexUrl',
    parse: packageSource,
    describe: 'pip index for builds',
  },
  {
    env: 'GOVHOST_BUILD_PYTHON',
    file: 'buildPython',
    parse: (r) => {
      if (!r.startsWith('/')) throw new Error('must be an absolute path such as /usr/bin/python3');
      return r;
    },
    describe: 'Python interpreter for builds',
  },
  {
    env: 'GOVHOST_BUILD_MEMORY_MB',
    file: 'buildMemoryMb',
    parse: integer(64, 64 * 1024),
    describe: 'build memory limit',
  },
  { env: 'GOVHOST_BUILD_CPUS', file: 'buildCpus', parse: integer(1, 64), describe: 'build CPU limit' },
  {
    env: 'GOVHOST_BUILD_TIMEOUT_SEC',
    file: 'buildTimeoutSec',
    parse: integer(1, 24 * 3600),
    describe: 'build time limit',
  },
  {
    env: 'GOVHOST_BUILD_DISK_MB',
    file: 'buildDiskMb',
    parse: integer(16, 1024 * 1024),
    describe: 'build disk limit',
  },
  {
    env: 'GOVHOST_BUILD_CACHE_BYTES',
    file: 'buildCacheBytes',
    // 0 turns the cache off; up to 1 TiB.
    parse: integer(0, 2 ** 40),
    describe: 'dependency cache size',
  },
  {
    env: 'GOVHOST_RUNTIME',
    file: 'runtime',
    parse: (r) => {
      if (r !== 'local' && r !== 'kubernetes') throw new Error('must be local or kubernetes');
      return r;
    },
    describe: 'runtime driver',
  },
  {
    env: 'GOVHOST_KUBECONFIG',
    file: 'kubeconfig',
    parse: (r) => resolve(nonEmpty(r)),
    describe: 'kubeconfig file',
  },
  { env: 'GOVHOST_K8S_STACK_IMAGES', file: 'k8sStackImages', parse: stackImages, describe: 'stack images' },
  { env: 'GOVHOST_K8S_FETCH_IMAGE', file: 'k8sFetchImage', parse: nonEmpty, describe: 'droplet fetch image' },
  { env: 'GOVHOST_K8S_STAGER_IMAGE', file: 'k8sStagerImage', parse: nonEmpty, describe: 'staging Job image' },
  {
    env: 'GOVHOST_K8S_CONTROL_PLANE_URL',
    file: 'k8sControlPlaneUrl',
    parse: packageSource,
    describe: 'control-plane URL for pods',
  },
  {
    env: 'GOVHOST_BLOB_STORE',
    file: 'blobStore',
    parse: (r) => {
      if (r !== 'data-dir' && r !== 'postgres') throw new Error('must be data-dir or postgres');
      return r;
    },
    describe: 'blob store',
  },
  {
    env: 'GOVHOST_ROUTE_STREAM_WAITERS',
    file: 'routeStreamWaiters',
    parse: integer(1, 65_536),
    describe: 'routers waiting per replica',
  },
  {
    env: 'GOVHOST_PAYMENTS_SANDBOX_URL',
    file: 'paymentsSandboxUrl',
    parse: (r) => {
      if (!/^https?:\/\/[^\s/]+\/?$/.test(r)) throw new Error('must be an http(s)://host:port URL');
      return r.replace(/\/$/, '');
    },
    describe: 'sandbox payment provider',
  },
  {
    env: 'GOVHOST_PAYMENTS_LIVE_PROVIDER_URL',
    file: 'paymentsLiveProviderUrl',
    parse: (r) => {
      if (r === 'sandbox') return r;
      // Real money: the platform speaks to the acquirer's adapter over TLS only.
      if (!/^https:\/\/[^\s/]+\/?$/.test(r))
        throw new Error('must be an https://host[:port] URL or "sandbox"');
      return r.replace(/\/$/, '');
    },
    describe: 'live payment provider',
  },
  {
    env: 'GOVHOST_PAYMENTS_EXPIRY_MINUTES',
    file: 'paymentsExpiryMinutes',
    parse: integer(5, 1440),
    describe: 'payment expiry',
  },
  {
    env: 'GOVHOST_ACME_DIRECTORY_URL',
    file: 'acmeDirectoryUrl',
    parse: (r) => {
      // RFC 8555 §6.1: ACME runs over HTTPS only.
      if (!/^https:\/\/[^\s/]+/.test(r)) throw new Error('must be an https:// URL of an ACME directory');
      return r;
    },
    describe: 'ACME directory',
  },
  {
    env: 'GOVHOST_ACME_EMAIL',
    file: 'acmeEmail',
    parse: (r) => {
      if (!/^[^\s@<>]+@[^\s@<>]+$/.test(r))
        throw new Error('must be an e-mail address such as ops@gov.example');
      return r;
    },
    describe: 'ACME account contact',
  },
  {
    env: 'GOVHOST_ACME_CA_FILE',
    file: 'acmeCaFile',
    parse: (r) => resolve(nonEmpty(r)),
    describe: 'ACME CA file',
  },
  {
    env: 'GOVHOST_ACME_RENEW_DAYS',
    file: 'acmeRenewBeforeDays',
    parse: integer(1, 365),
    describe: 'ACME renewal window',
  },
  {
    env: 'GOVHOST_ACME_ALERT_DAYS',
    file: 'acmeAlertBeforeDays',
    parse: integer(1, 365),
    describe: 'certificate expiry alert window',
  },
  {
    env: 'GOVHOST_ACME_ROUND_SECONDS',
    file: 'acmeRoundSeconds',
    parse: integer(1, 86_400),
    describe: 'ACME round interval',
  },
  {
    env: 'GOVHOST_DOMAIN_TXT_CHECK',
    file: 'domainTxtCheck',
    parse: onOff,
    describe: 'custom domain TXT check',
  },
  { env: 'GOVHOST_DNS_RESOLVER', file: 'dnsResolver', parse: resolverAddress, describe: 'DNS resolver' },
  { env: 'GOVHOST_SUPPORT_HOURS', file: 'supportHours', parse: businessHours, describe: 'support hours' },
  { env: 'GOVHOST_SUPPORT_HOLIDAYS', file: 'supportHolidays', parse: dayList, describe: 'support holidays' },
  {
    env: 'GOVHOST_SUPPORT_CHECK_SECONDS',
    file: 'supportCheckSeconds',
    parse: integer(1, 3_600),
    describe: 'support SLA check interval',
  },
  {
    env: 'GOVHOST_SUPPORT_REOPEN_DAYS',
    file: 'supportReopenDays',
    parse: integer(1, 366),
    describe: 'support reopen window',
  },
];

export const DEFAULTS: Config = {
  dataDir: resolve('.govhost'),
  databaseUrl: null,
  host: '127.0.0.1',
  port: 7070,
  domain: 'localhost',
  logLevel: 'info',
  bodyLimit: 1024 * 1024,
  bundleLimit: 200 * 1024 * 1024,
  routerHost: '127.0.0.1',
  routerPort: 8080,
  routerAdminPort: 8081,
  routerTrustedProxies: [],
  appsDir: null,
  secretKey: null,
  auditKey: null,
  probeIntervalMs: 10_000,
  probeTimeoutMs: 5_000,
  metricsRetentionDays: 400,
  smtpUrl: null,
  mailFrom: 'govhost@localhost',
  webhookAllow: [],
  legacyAllow: [],
  notificationRetentionDays: 90,
  serviceUserPrefix: null,
  // Above the range useradd gives people (1000-59999 on Debian) and Debian's reserved ids, below
  // the subordinate ids container tools hand out (100000 up).
  serviceUidMin: 70_000,
  serviceUidMax: 79_999,
  npmRegistry: null,
  pipIndexUrl: null,
  buildPython: '/usr/bin/python3',
  buildMemoryMb: 1024,
  buildCpus: 1,
  buildTimeoutSec: 900,
  buildDiskMb: 2048,
  buildCacheBytes: 2 * 1024 ** 3,
  runtime: 'local',
  kubeconfig: null,
  k8sStackImages: { node: 'node:20-bookworm-slim', python: 'python:3.11-slim-bookworm' },
  k8sFetchImage: 'busybox:1.36',
  k8sControlPlaneUrl: 'http://govhost-api.govhost.svc:8080',
  // The image the install manifests run the control plane with (install-manifests.ts).
  k8sStagerImage: 'govhost:0.1.0',
  blobStore: 'data-dir',
  routeStreamWaiters: 256,
  acmeDirectoryUrl: null,
  acmeEmail: null,
  acmeCaFile: null,
  acmeRenewBeforeDays: 30,
  acmeAlertBeforeDays: 14,
  acmeRoundSeconds: 600,
  domainTxtCheck: false,
  dnsResolver: null,
  supportHours: 'Mon-Fri 09:00-18:00 Asia/Hong_Kong',
  supportHolidays: [],
  supportCheckSeconds: 60,
  supportReopenDays: 14,
  paymentsSandboxUrl: null,
  paymentsLiveProviderUrl: null,
  paymentsExpiryMinutes: 90,
};

function readFile(path: string): Source {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`GOVHOST_CONFIG: cannot read ${path}: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`GOVHOST_CONFIG: ${path} is not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`GOVHOST_CONFIG: ${path} must hold a JSON object`]);
  }
  const known = new Set<string>(FIELDS.map((f) => f.file));
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((k) => `${path}: unknown setting "${k}" (known: ${[...known].join(', ')})`),
    );
  }
  return parsed as Source;
}

/**
 * Builds the configuration from the environment (which wins) and an optional JSON file named by
 * GOVHOST_CONFIG; every problem is collected and named, so one start shows them all.
 * @example loadConfig(process.env)
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const file = env.GOVHOST_CONFIG ? readFile(env.GOVHOST_CONFIG) : {};
  const result: Record<string, unknown> = { ...DEFAULTS };
  const problems: string[] = [];
  if (env.GOVHOST_ROUTER_TRUST_FORWARDED !== undefined) {
    problems.push(TRUST_FORWARDED_REMOVED);
  }
  for (const field of FIELDS) {
    const fromEnv = env[field.env];
    const fromFile = file[field.file];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : fromFile;
    if (raw === undefined || raw === null) continue;
    const origin =
      fromEnv !== undefined && fromEnv !== '' ? field.env : `${env.GOVHOST_CONFIG}: ${field.file}`;
    try {
      result[field.file] = field.parse(String(raw));
    } catch (err) {
      problems.push(
        `${origin} (${field.describe}) ${(err as Error).message}, got ${JSON.stringify(String(raw))}`,
      );
    }
  }
  if ((result.serviceUidMin as number) > (result.serviceUidMax as number)) {
    problems.push(
      `GOVHOST_SERVICE_UID_MIN (${result.serviceUidMin}) must not be above GOVHOST_SERVICE_UID_MAX (${result.serviceUidMax})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...(result as unknown as Config), ...overrides });
}
