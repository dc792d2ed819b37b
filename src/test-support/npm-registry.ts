/**
 * A real npm registry on loopback for tests: Verdaccio in a child process of its own, on a free
 * port, with a temp storage folder and no uplinks, so that nothing a test installs can come from
 * anywhere else, as in a closed government network whose only source is an internal mirror. The
 * packages are published into it through the registry's own publish API by a test user.
 *
 * @example
 *   const registry = await startNpmRegistry({ packages: ['express'] });
 *   // npm ci --registry registry.url ...
 *   await registry.close();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare } from 'semver';
import { stringify } from 'yaml';
import { LOOPBACK_NO_PROXY } from './egress-tripwire.ts';
import { integrityOf, manifestOf, type NpmTarball, projectPackageTree } from './npm-tarballs.ts';
import { testRunDir } from './run-dir.ts';

export interface NpmRegistry {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:40123/`. */
  url: string;
  /** Verdaccio's process. */
  pid: number;
  /** A token of the test user, allowed to publish (`//127.0.0.1:PORT/:_authToken=...`). */
  token: string;
  /** Publishes one more tarball. */
  publish(tarball: Pick<NpmTarball, 'file'>): Promise<void>;
  /** The paths of the tarballs served so far (`/express/-/express-5.3.0.tgz`), from its log. */
  tarballsServed(): Promise<string[]>;
  close(): Promise<void>;
}

export interface NpmRegistryOptions {
  /**
   * What to publish: a name means that installed package of the project and its whole dependency
   * tree (see npm-tarballs.ts); a tarball is published as it is.
   */
  packages?: Array<string | Pick<NpmTarball, 'file'>>;
  /** How long Verdaccio may take to start listening. */
  startTimeoutMs?: number;
}

const VERDACCIO = createRequire(import.meta.url).resolve('verdaccio');

// Runs in the child: Verdaccio's own server factory, listening on a port the OS picks, which it
// then reports on stdout; no port is guessed, so parallel test files never collide.
const LAUNCHER = `
const { rmSync } = await import('node:fs');
const { runServer } = await import(process.argv[1]);
const server = await runServer(process.argv[2]);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
// Its standard input is a pipe from the test: when the test process dies, even by SIGKILL, the
// pipe closes and the registry goes with it, taking its folder along, instead of outliving it.
process.stdin.on('close', () => {
  rmSync(process.argv[3], { recursive: true, force: true });
  process.exit(0);
}).resume();
`;

const USER = 'govhost-test';

/**
 * Verdaccio's access log line for a request. It may log a 200 with nothing sent before the 404 of
 * a missing tarball, so a tarball counts as served only when bytes went out.
 */
interface ServedLine {
  status?: number;
  request?: { method: string; url: string };
  bytes?: { in: number; out: number };
}

export async function startNpmRegistry(options: NpmRegistryOptions = {}): Promise<NpmRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'govhost-npm-registry-'));
  const logFile = join(dir, 'verdaccio.log');
  const configFile = join(dir, 'config.yaml');
  await writeFile(
    configFile,
    stringify({
      storage: join(dir, 'storage'),
      // A fast hash and JWT tokens: with the defaults (bcrypt, legacy tokens) every publish checks
      // the password's bcrypt hash again, which made publishing the Express tree take seconds.
      auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 10, algorithm: 'sha1' } },
      security: { api: { jwt: { sign: { expiresIn: '1d' } } } },
      // No uplinks: a package not published here is a 404, never fetched from elsewhere.
      uplinks: {},
      packages: {
        '@*/*': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
        '**': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
      },
      web: { enable: false },
      max_body_size: '200mb',
      log: { type: 'file', path: logFile, format: 'json', level: 'http' },
    }),
  );
  // Publishing the Express tree takes seconds; the storage it leaves is kept for the rest of the
  // test run, and a registry asked for the same tarballs starts from a copy of it instead.
  const groups = await publishingGroups(options.packages ?? []);
  const template = groups.length > 0 ? await templateFor(groups) : null;
  const seeded = template !== null && existsSync(template);
  if (seeded) await cp(template, join(dir, 'storage'), { recursive: true });
  let child: ChildProcess | null = null;
  const close = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    child = spawn(process.execPath, ['--input-type=module', '-e', LAUNCHER, VERDACCIO, configFile, dir], {
      cwd: dir,
      // Not the test runner's NODE_OPTIONS (its TypeScript loader) nor any npm or proxy settings.
      env: { PATH: process.env.PATH, HOME: dir, NODE_ENV: 'production' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const port = await listeningPort(child, options.startTimeoutMs ?? 20_000);
    const url = `http://127.0.0.1:${port}/`;
    const token = await addUser(url);
    const registry: NpmRegistry = {
      url,
      pid: child.pid!,
      token,
      publish: (tarball) => publish(url, token, tarball.file),
      async tarballsServed() {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        return log
          .split('\n')
          .filter((line) => line.includes('.tgz'))
          .map((line) => JSON.parse(line) as ServedLine)
          .filter((l) => l.status === 200 && (l.bytes?.out ?? 0) > 0 && l.request?.url.endsWith('.tgz'))
          .map((l) => l.request!.url);
      },
      close,
    };
    if (!seeded) {
      await inParallel(groups, 4, async (group) => {
        for (const file of group) await publish(url, token, file);
      });
      if (template) await saveTemplate(join(dir, 'storage'), template);
    }
    return registry;
  } catch (err) {
    await close();
    throw err;
  }
}

/** Where the storage holding exactly these tarballs is kept for the rest of the test run. */
async function templateFor(groups: string[][]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of groups.flat().sort()) hash.update(`${file}\0${integrityOf(await readFile(file))}\n`);
  return join(await testRunDir(), `npm-storage-${hash.digest('hex').slice(0, 16)}`);
}

/** Copies a storage folder to `template` atomically: a registry beside this one sees all or none. */
async function saveTemplate(storage: string, template: string): Promise<void> {
  const partial = `${template}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await cp(storage, partial, { recursive: true });
  // Another test file may have saved the same one first: theirs is as good.
  await rename(partial, template).catch(() => rm(partial, { recursive: true, force: true }));
}

/** Waits for the launcher's `{"port":N}` line; fails with Verdaccio's output if it ends first. */
async function listeningPort(child: ChildProcess, ms: number): Promise<number> {
  let out = '';
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not listen within ${ms} ms`), ms);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`Verdaccio ${why}\nstdout:\n${out}\nstderr:\n${err}`));
    };
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /^\{"port":(\d+)\}$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
  });
}

/** Registers the test user the way `npm adduser` does, and returns its token. */
async function addUser(url: string): Promise<string> {
  const res = await fetch(new URL(`-/user/org.couchdb.user:${USER}`, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: USER, password: 'test-password', type: 'user', roles: [] }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 || !body.token) throw new Error(`adding the test user: ${res.status}`);
  return body.token;
}

/**
 * Tarball files to publish, grouped by package name with each package's versions oldest first (so
 * that `latest` ends on the newest): the groups are published side by side, a group in order.
 */
async function publishingGroups(packages: Array<string | Pick<NpmTarball, 'file'>>): Promise<string[][]> {
  const groups = new Map<string, NpmTarball[]>();
  const files: string[][] = [];
  for (const p of packages) {
    if (typeof p !== 'string') {
      files.push([p.file]);
      continue;
    }
    for (const t of await projectPackageTree(p)) {
      const group = groups.get(t.name) ?? [];
      if (!group.some((g) => g.file === t.file)) group.push(t);
      groups.set(t.name, group);
    }
  }
  const sorted = [...groups.values()].map((g) => g.sort((a, b) => compare(a.version, b.version)));
  return [...sorted.map((g) => g.map((t) => t.file)), ...files];
}

/** Runs `work` on every item, at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Publishes one tarball with the request `npm publish` sends: the manifest, its dist fields and the
 * tarball as a base64 attachment. A version already there (the same file twice) is not an error.
 */
async function publish(url: string, token: string, file: string): Promise<void> {
  const manifest = await manifestOf(file);
  const name = String(manifest.name);
  const version = String(manifest.version);
  const data = await readFile(file);
  const base = name.split('/').pop();
  const tarballName = `${base}-${version}.tgz`;
  const body = {
    _id: name,
    name,
    description: manifest.description,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        ...manifest,
        _id: `${name}@${version}`,
        dist: {
          integrity: integrityOf(data),
          shasum: createHash('sha1').update(data).digest('hex'),
          tarball: new URL(`${name}/-/${tarballName}`, url).href,
        },
      },
    },
    _attachments: {
      [tarballName]: {
        content_type: 'application/octet-stream',
        data: data.toString('base64'),
        length: data.length,
      },
    },
  };
  const res = await fetch(new URL(name.replace('/', '%2f'), url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (res.status === 409) return;
  if (res.status >= 300) throw new Error(`publishing ${name}@${version}: ${res.status} ${await res.text()}`);
}

/**
 * The environment for a real `npm` that may use `registry` and nothing else: a fresh home and
 * cache (so every tarball is fetched), no user or global npmrc, and every other host sent to
 * `proxy` (a tripwire: see egress-tripwire.ts), loopback exempted.
 */
export function npmClientEnv(opts: { registry: string; home: string; proxy: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: opts.home,
    npm_config_userconfig: join(opts.home, '.npmrc'),
    npm_config_globalconfig: join(opts.home, 'global-npmrc'),
    npm_config_cache: join(opts.home, '.npm'),
    npm_config_registry: opts.registry,
    npm_config_proxy: opts.proxy,
    npm_config_https_proxy: opts.proxy,
    npm_config_noproxy: LOOPBACK_NO_PROXY,
    npm_config_prefer_online: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'warn',
  };
}
