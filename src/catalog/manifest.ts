/**
 * Reads a bundle's `manifest.yml` in the Cloud Foundry convention. The walk is over the YAML syntax
 * tree rather than a plain object, so that every error and warning can name the line it is about.
 */
import { isSeq, type Scalar } from 'yaml';
import { DomainError } from '../platform/errors.ts';
import { ManifestReader as Reader } from './manifest-reader.ts';

export type HealthCheckType = 'http' | 'port' | 'process';

/** How a release says its instances are healthy (manifest `health-check-*`, `timeout`). */
export interface ManifestHealthCheck {
  type: HealthCheckType;
  /** Path for `http` checks, e.g. `/healthz`; a 2xx or 3xx answer is healthy. */
  endpoint: string;
  /** Seconds an instance may take from start to its first healthy check (manifest `timeout`). */
  startTimeoutSec: number;
}

export interface AppManifest {
  /** The application name; GovHost names services through the API, so it is optional here. */
  name: string | null;
  instances: number;
  memoryMb: number;
  diskQuotaMb: number;
  /** Shell command line; null when the bundle's Procfile, package.json or files decide it. */
  command: string | null;
  healthCheck: ManifestHealthCheck;
  env: Record<string, string>;
  /** Host names, lower case: the deploy claims those the service does not hold yet (decision 032). */
  routes: string[];
  /** CF `buildpacks:` (or the older `buildpack:`), as written; the build capability picks from them. */
  buildpacks: string[];
}

export const defaultManifest = (): AppManifest => ({
  name: null,
  instances: 1,
  memoryMb: 256,
  diskQuotaMb: 1024,
  command: null,
  healthCheck: { type: 'port', endpoint: '/', startTimeoutSec: 60 },
  env: {},
  routes: [],
  buildpacks: [],
});

// Cloud Foundry attributes GovHost does not implement. They are accepted with a warning so that an
// existing CF app deploys unchanged; anything not known at all is an error, so a typo is not lost.
const CF_ONLY = new Set(
  `stack random-route no-route path services docker sidecars processes
   metadata health-check-invocation-timeout health-check-interval readiness-health-check-type
   readiness-health-check-http-endpoint readiness-health-check-invocation-timeout
   readiness-health-check-interval log-rate-limit-per-second default-route no-hostname domain
   domains host hosts lifecycle cnb-credentials inherit`.split(/\s+/),
);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

type FieldReader = (r: Reader, value: unknown, field: string, app: AppManifest) => void;

const readBuildpacks: FieldReader = (r, v, f, app) => {
  if (isSeq(v)) app.buildpacks = v.items.map((item, i) => r.text(item, `${f}[${i}]`));
  else if (r.scalar(v) !== null) app.buildpacks = [r.text(v, f)];
};

const APP_FIELDS: Record<string, FieldReader> = {
  buildpacks: readBuildpacks,
  buildpack: readBuildpacks,
  name: (r, v, f, app) => {
    app.name = r.text(v, f);
  },
  instances: (r, v, f, app) => {
    app.instances = r.wholeNumber(v, f, 1, 100);
  },
  memory: (r, v, f, app) => {
    app.memoryMb = r.size(v, f, 16, 16 * 1024);
  },
  disk_quota: (r, v, f, app) => {
    app.diskQuotaMb = r.size(v, f, 64, 64 * 1024);
  },
  command: (r, v, f, app) => {
    // CF lets `command: null` mean "the default start command"; so do we.
    app.command = r.scalar(v) === null ? null : r.text(v, f);
  },
  'health-check-type': (r, v, f, app) => {
    const type = r.scalar(v);
    if (type === 'none') {
      // CF's old name for `process`: keep the app deployable, but tell them.
      r.warn(v, `${f} none is the old name for process; GovHost uses process`);
      app.healthCheck.type = 'process';
    } else if (type === 'http' || type === 'port' || type === 'process') {
      app.healthCheck.type = type;
    } else throw r.error(v, f, 'must be http, port or process');
  },
  'health-check-http-endpoint': (r, v, f, app) => {
    const path = r.text(v, f);
    if (!path.startsWith('/')) throw r.error(v, f, 'must start with /');
    app.healthCheck.endpoint = path;
  },
  timeout: (r, v, f, app) => {
    app.healthCheck.startTimeoutSec = r.wholeNumber(v, f, 1, 600);
  },
  env: (r, v, f, app) => {
    for (const { key, keyNode, value } of r.entries(v, f, 'a map of names to values')) {
      if (!ENV_NAME.test(key))
        throw r.error(keyNode, `${f}.${key}`, 'is not a valid environment variable name');
      // The runtime gives each instance its own PORT; a fixed one would break every instance but one.
      if (key === 'PORT') throw r.error(keyNode, `${f}.PORT`, 'is set by GovHost for each instance');
      const s = r.scalar(value);
      if (typeof s === 'string') app.env[key] = s;
      // Numbers keep their written form: VERSION: 1.10 must not become "1.1".
      else if (typeof s === 'number' || typeof s === 'boolean')
        app.env[key] = (value as Scalar).source ?? String(s);
      else throw r.error(value, `${f}.${key}`, 'must be text, a number or true/false');
    }
  },
  routes: (r, v, f, app) => {
    const seq = v;
    if (!isSeq(seq)) throw r.error(v, f, 'must be a list of entries such as - route: forms.dept.gov.hk');
    seq.items.forEach((item, i) => {
      const at = `${f}[${i}]`;
      let host: string | null = null;
      for (const { key, keyNode, value } of r.entries(
        item,
        at,
        'an entry such as route: forms.dept.gov.hk',
      )) {
        if (key === 'protocol')
          r.warn(keyNode, `${at}.protocol is a Cloud Foundry attribute that GovHost ignores`);
        else if (key !== 'route') throw r.error(keyNode, `${at}.${key}`, 'is not a known field');
        else {
          // The router matches whole host names: CF's route paths, TCP ports and wildcards have no meaning here.
          host = r.text(value, `${at}.route`).toLowerCase();
          if (!HOST_NAME.test(host))
            throw r.error(value, `${at}.route`, 'must be a host name such as forms.dept.gov.hk');
          if (app.routes.includes(host)) throw r.error(value, `${at}.route`, `lists ${host} a second time`);
        }
      }
      if (host === null) throw r.error(item, at, 'needs a route: host name');
      app.routes.push(host);
    });
    // Exposed as asked: the deploy path files them as custom-domain claims (the edge capability,
    // above the catalogue) and its answer says, per name, whether it is routed or waits.
  },
};

/**
 * Parses a CF-style manifest holding one application; throws GOVHOST_MANIFEST_INVALID naming the line.
 * @example parseManifest('applications:\n- name: forms\n  memory: 512M\n').manifest.memoryMb // 512
 */
export function parseManifest(
  text: string,
  fileName = 'manifest.yml',
): { manifest: AppManifest; warnings: string[] } {
  const r = new Reader(text, fileName);
  const top = r.contents;
  if (top === null) throw r.error(null, 'the manifest', 'is empty: it needs an applications: list');

  const manifest = defaultManifest();
  let apps: unknown = null;
  for (const { key, keyNode, value } of r.entries(top, 'the manifest', 'a map with an applications: list')) {
    if (key === 'applications') apps = value;
    // `version: 1` is the CF manifest schema version, which is the one we read.
    else if (key === 'version' && r.scalar(value) === 1) continue;
    else if (key === 'version') throw r.error(value, 'version', 'must be 1');
    else if (CF_ONLY.has(key) || key === 'buildpack' || key === 'buildpacks')
      r.warn(keyNode, `${key} is a Cloud Foundry attribute that GovHost ignores`);
    else if (Object.hasOwn(APP_FIELDS, key))
      throw r.error(keyNode, key, 'belongs under applications[0], not at the top level');
    else throw r.error(keyNode, key, 'is not a known field');
  }
  if (apps === null) throw r.error(top, 'applications', 'is missing: list one application');
  if (!isSeq(apps) || apps.items.length === 0)
    throw r.error(apps, 'applications', 'must list one application');
  if (apps.items.length > 1) {
    throw r.error(
      apps.items[1],
      'applications[1]',
      'is not supported: a bundle holds exactly one application',
    );
  }
  for (const { key, keyNode, value } of r.entries(apps.items[0], 'applications[0]', 'a map of fields')) {
    const field = `applications[0].${key}`;
    const read = Object.hasOwn(APP_FIELDS, key) ? APP_FIELDS[key] : undefined;
    if (read) read(r, value, field, manifest);
    else if (CF_ONLY.has(key)) r.warn(keyNode, `${field} is a Cloud Foundry attribute that GovHost ignores`);
    else throw r.error(keyNode, field, 'is not a known field');
  }
  return { manifest, warnings: r.warnings };
}

/**
 * The `web:` command of a Procfile (one `type: command` a line). GovHost runs only the web process,
 * so other types are warnings rather than errors: the same Procfile still works elsewhere.
 * @example parseProcfile('web: python3 app.py\n').web // 'python3 app.py'
 */
export function parseProcfile(
  text: string,
  fileName = 'Procfile',
): { web: string | null; warnings: string[] } {
  const warnings: string[] = [];
  const seen = new Set<string>();
  let web: string | null = null;
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = i + 1;
      const content = raw.trim();
      if (content === '' || content.startsWith('#')) return;
      const m = /^([A-Za-z0-9_-]+)\s*:\s*(.*)$/.exec(content);
      const error = (problem: string) =>
        new DomainError('GOVHOST_MANIFEST_INVALID', `${fileName} line ${line}: ${problem}`, {
          file: fileName,
          line,
          field: m?.[1] ?? null,
        });
      if (!m) throw error('must look like "web: node server.js" (a process type, a colon, a command)');
      const [, type, command] = m as unknown as [string, string, string];
      if (command === '') throw error(`${type} has no command`);
      if (seen.has(type)) throw error(`${type} is listed a second time`);
      seen.add(type);
      if (type === 'web') web = command;
      else warnings.push(`${fileName} line ${line}: ${type} processes are not run by GovHost; only web is`);
    });
  return { web, warnings };
}
