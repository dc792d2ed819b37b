/**
 * Stages a release's bundle into a droplet: unpacks it in a scratch folder, picks its builder, runs
 * the builder in the sandbox as the service's user, and stores the result by the SHA-256 of its
 * inputs. A droplet with the same inputs is reused without building again.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BlobStores } from '../blobs/blob-stores.ts';
import { extractBundle } from '../catalog/bundle-inspect.ts';
import type { Db } from '../platform/database.ts';
import { Phases } from '../platform/phases.ts';
import type { DropletRun } from './build.tables.ts';
import { AS_IS, type Builder, type BuildSettings, buildPath } from './builder.ts';
import { directStart, packageScripts } from './builders/npm-scripts.ts';
import { type BundleFiles, filesOfFolder } from './bundle-files.ts';
import { decisiveLines } from './decisive.ts';
import type { DependencyCache } from './dependency-cache.ts';
import { detectBuilder } from './detect.ts';
import * as repo from './droplet.repository.ts';
import { archiveDroplet, dropletDir, dropletExists, restoreDroplet, storeDroplet } from './droplet-store.ts';
import { folderBytes, type Limiter, Sandbox, type SandboxLimits, StagingStopped } from './sandbox.ts';
import { StagingLog } from './staging-log.ts';
import { recordStaging } from './staging-usage.repository.ts';

export interface StagerDeps {
  db: Db;
  settings: BuildSettings;
  limits: SandboxLimits;
  /** cgroups for stagings, where the host allows (null: measured limits only). */
  limiter: Limiter | null;
  cache: DependencyCache;
  /** Where bundles and droplets are kept (`dropletsDir` is this host's cache of droplets). */
  blobs: BlobStores;
  dropletsDir: string;
  logsDir: string;
  /** Where scratch folders go: a folder service users can pass through (the apps folder). */
  scratchDir: string;
  /** Where builds run; default `localStager` (here, in the sandbox). */
  stager?: Stager;
}

/** One build to run: a bundle unpacked in `appDir`, its builder picked, its log open. */
export interface BuildJob {
  req: StageRequest;
  builder: Builder;
  files: BundleFiles;
  /** The unpacked bundle; on success it holds what the droplet is made of. */
  appDir: string;
  /** The staging's private scratch folder (`appDir` is inside it). */
  scratch: string;
  log: StagingLog;
  phases: Phases;
}

/**
 * Where a builder runs (the seam between staging's bookkeeping and the build itself): here, in
 * the sandbox as the service's user (`localStager`), or elsewhere (a Kubernetes Job in the
 * department's namespace, given by the composition root), so that a build script never runs in
 * the control plane. Resolves with how the droplet runs once `appDir` holds the built app;
 * rejects with StagingFailed, or with StagingStopped (whose output explains it).
 */
export interface Stager {
  build(deps: BuildDeps, job: BuildJob): Promise<DropletRun>;
}

/** What running a builder takes (a staging Job has these, and no store). */
export type BuildDeps = Pick<StagerDeps, 'settings' | 'limits' | 'limiter' | 'cache'>;

export interface StageRequest {
  releaseId: string;
  /**
   * Droplets are the service's own: its variables are visible to its build and may end up in
   * what the build writes, so another service (of any department) uploading the same bundle
   * never gets this one's droplet.
   */
  serviceId: string;
  departmentId: string;
  bundlePath: string;
  bundleSha256: string;
  kind: 'process' | 'static';
  command: string | null;
  buildpacks: readonly string[];
  /** The service's variables: visible to its build, as on Heroku and Cloud Foundry, never printed. */
  env: Record<string, string>;
  uid: number | null;
  /** `deploy --no-cache`: install afresh (and refresh the cache), and stage an identical bundle again. */
  noCache?: boolean;
  /** Told what staging is doing, for the deployment's message. */
  progress(message: string): Promise<void>;
}

export interface StagedDroplet {
  sha256: string;
  dir: string;
  builder: string;
  run: DropletRun;
  /** False when an existing droplet was reused. */
  built: boolean;
}

/** A staging that failed: its one-line reason and the lines of output that say why. */
export class StagingFailed extends Error {
  constructor(
    readonly reason: string,
    readonly decisive: string[],
  ) {
    super(decisive.length ? `${reason}\n${decisive.map((l) => `  ${l}`).join('\n')}` : reason);
    this.name = 'StagingFailed';
  }
}

/** Secret values are taken out of every line a build prints (values shorter than 6 would hide too much). */
function redactor(secrets: string[]): (line: string) => string {
  const values = [...new Set(secrets.filter((s) => s.length >= 6))].sort((a, b) => b.length - a.length);
  return (line) => values.reduce((l, v) => l.split(v).join('***'), line);
}

/** What a build's output must not show: the service's variables and the mirrors' credentials. */
export const buildRedactor = (env: Record<string, string>, settings: BuildSettings) =>
  redactor([...Object.values(env), ...urlSecrets(settings.npmRegistry), ...urlSecrets(settings.pipIndexUrl)]);

/** The URL's user and password, for redaction (a mirror's credentials are secrets). */
function urlSecrets(url: string | null): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    return [u.password, decodeURIComponent(u.password), url].filter((s) => s !== '');
  } catch {
    return [url];
  }
}

async function chownTree(path: string, uid: number): Promise<void> {
  const s = await lstat(path);
  // lchown: a link a bundle holds must not make the platform change its target's owner.
  await lchown(path, uid, uid);
  if (!s.isDirectory()) return;
  for (const e of await readdir(path)) await chownTree(join(path, e), uid);
}

/**
 * The cache as one staging sees it: a restored install is given to the build's user, its folders
 * as the user's own and its files hard-linked to the entry's, which stay the platform's (0644 or
 * 0755: the build reads them, and can replace but never change them); without another user to run
 * as (the platform is not root) the build gets a copy. `--no-cache` restores nothing but still
 * refreshes the entry.
 */
function forBuild(
  cache: DependencyCache,
  req: StageRequest,
  log: StagingLog,
  phases: Phases,
): DependencyCache {
  return {
    restore: (key, dest) => phases.time('restore', () => restoreFor(cache, req, log, key, dest)),
    keep: (key, src) => phases.time('keep', () => cache.keep(key, src)),
  };
}

/** Builds here: the builder in the sandbox, as the service's user, within the limits. */
export const localStager: Stager = {
  async build(deps, { req, builder, files, appDir, scratch, log, phases }) {
    const home = join(scratch, 'home');
    await mkdir(home, { mode: 0o700 });
    if (req.uid !== null) await chownTree(scratch, req.uid);
    const env: Record<string, string> = {
      ...req.env,
      PATH: buildPath(),
      HOME: home,
      TMPDIR: home,
      npm_config_cache: join(home, '.npm'),
      npm_config_update_notifier: 'false',
      PIP_CACHE_DIR: join(home, '.cache', 'pip'),
      ...(deps.settings.npmRegistry ? { npm_config_registry: deps.settings.npmRegistry } : {}),
      ...(deps.settings.pipIndexUrl ? { PIP_INDEX_URL: deps.settings.pipIndexUrl } : {}),
    };
    const box = new Sandbox({
      name: `staging-${req.releaseId}`,
      scratch,
      cwd: appDir,
      uid: req.uid,
      env,
      limits: deps.limits,
      limiter: deps.limiter,
      onLine: (l) => log.line(l),
    });
    try {
      const l = deps.limits;
      log.say(
        `limits: ${l.memoryMb} MiB memory, ${l.cpus} CPU, ${l.timeoutSec} s, ${l.diskMb} MiB disk${req.uid === null ? '' : `; as uid ${req.uid}`}`,
      );
      if (box.limitsNote) log.say(`note: ${box.limitsNote}`);
      return await builder.stage({
        appDir,
        departmentId: req.departmentId,
        files,
        settings: deps.settings,
        cache: forBuild(deps.cache, req, log, phases),
        serviceEnv: req.env,
        run: (file, args, extra, as) => {
          const step = [file.split('/').pop(), ...args].join(' ');
          log.line(`$ ${as?.log ?? step}`);
          // `npm ci --include=dev …` is timed as `npm ci`: its options are left out of the name.
          const name =
            as?.phase ??
            step
              .split(' ')
              .filter((a) => !a.startsWith('-'))
              .join(' ');
          return phases.time(name, () => box.run(file, args, extra, as?.phase));
        },
        say: (line) => log.say(line),
      });
    } finally {
      // The build's processes go before its folder becomes the platform's.
      box.close();
    }
  },
};

/**
 * Whether droplet `row` has its folder on this host, unpacking it from its archive in the blob
 * store (verified) when it has none yet; false when neither is there.
 */
export async function localDroplet(
  deps: Pick<StagerDeps, 'blobs' | 'dropletsDir'>,
  row: Pick<repo.DropletRow, 'sha256' | 'blob_sha256'>,
): Promise<boolean> {
  if (await dropletExists(deps.dropletsDir, row.sha256)) return true;
  if (row.blob_sha256 === null || !(await deps.blobs.droplets.has(row.blob_sha256))) return false;
  await restoreDroplet(deps.blobs.droplets, row.blob_sha256, deps.dropletsDir, row.sha256);
  return true;
}

async function restoreFor(
  cache: DependencyCache,
  req: StageRequest,
  log: StagingLog,
  key: Parameters<DependencyCache['restore']>[0],
  dest: string,
): Promise<boolean> {
  const started = Date.now();
  if (req.noCache || !(await cache.restore(key, dest, req.uid === null ? 'copy' : 'link'))) return false;
  if (req.uid !== null) {
    await promisify(execFile)('find', [
      dest,
      '-type',
      'd',
      '-exec',
      'chown',
      `${req.uid}:${req.uid}`,
      '{}',
      '+',
    ]);
  }
  log.say(`taken from the dependency cache in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  return true;
}

/** The droplet's name: everything that went in (bundle, builder and runtime versions). */
function dropletKey(
  serviceId: string,
  bundleSha256: string,
  builder: string,
  version: string,
  inputs: string,
): string {
  return createHash('sha256')
    .update(JSON.stringify({ serviceId, bundleSha256, builder, version, inputs, format: 2 }))
    .digest('hex');
}

const usageOf = (req: StageRequest) => ({
  releaseId: req.releaseId,
  serviceId: req.serviceId,
  departmentId: req.departmentId,
});

/**
 * Stages a bundle; resolves with the droplet, or rejects with StagingFailed (the reason, and the
 * output lines that say why). The staging log is written as it goes.
 */
export async function stage(deps: StagerDeps, req: StageRequest): Promise<StagedDroplet> {
  const redact = buildRedactor(req.env, deps.settings);
  const log = await StagingLog.open(deps.logsDir, req.releaseId, redact);
  await mkdir(deps.scratchDir, { recursive: true, mode: 0o711 });
  // The apps folder's start-up tidying makes every folder in it private; this one must be passable.
  await chmod(deps.scratchDir, 0o711);
  const scratch = join(deps.scratchDir, randomBytes(8).toString('hex'));
  const appDir = join(scratch, 'app');
  const started = Date.now();
  const phases = new Phases();
  try {
    await mkdir(scratch, { mode: 0o700 });
    const files = await phases.time('unpack', async () => {
      await extractBundle(req.bundlePath, appDir);
      return filesOfFolder(appDir);
    });
    const detected = await detectBuilder(
      { files, buildpacks: req.buildpacks, kind: req.kind, command: req.command },
      deps.settings,
    ).catch((err: Error) => {
      throw new StagingFailed(err.message, []);
    });
    const { builder } = detected;
    const version = await builder.version(deps.settings);
    const inputs = createHash('sha256')
      .update(
        ['package.json', 'requirements.txt', 'pyproject.toml'].map((n) => files.text(n) ?? '').join('\0'),
      )
      .digest('hex');
    const sha256 = dropletKey(req.serviceId, req.bundleSha256, builder.name, version, inputs);
    const known = await repo.getDroplet(deps.db, sha256);
    if (!req.noCache && known && (await localDroplet(deps, known))) {
      log.say(`droplet ${sha256.slice(0, 12)} (${builder.name}) is already staged: reusing it`);
      await req.progress(`builder ${builder.name}: droplet ${sha256.slice(0, 12)} already staged, reused`);
      return {
        sha256,
        dir: dropletDir(deps.dropletsDir, sha256),
        builder: builder.name,
        run: known.run,
        built: false,
      };
    }
    log.say(`builder ${detected.description} (${version})`);
    for (const w of detected.warnings) log.say(`warning: ${w}`);
    await req.progress(`staging with builder ${detected.description}`);
    // Nothing to install: no program of the app's runs, here or elsewhere.
    let run = builder.nothingToDo(files)
      ? AS_IS
      : await (deps.stager ?? localStager).build(deps, { req, builder, files, appDir, scratch, log, phases });
    // `npm start` (found at deploy in package.json), whatever the builder: a Procfile or manifest
    // command runs as written.
    if (req.command === 'npm start') {
      const start = directStart(files, packageScripts(files), req.env);
      if ('npm' in start) log.say(`instances start through npm (${start.npm})`);
      else {
        log.say("instances run the start script as npm start would, without npm's start-up");
        run = { ...run, start };
      }
    }
    const sizeBytes = await phases.time('measure', () => folderBytes(appDir));
    await phases.time('store', () =>
      storeDroplet(deps.dropletsDir, sha256, appDir, { replace: req.noCache === true, move: true }),
    );
    // One archive of the droplet in a shared blob store: another host unpacks it instead of
    // staging again. On one machine the droplet's folder is all there is to keep.
    const archive = deps.blobs.shared
      ? await phases.time('archive', () =>
          archiveDroplet(deps.blobs.droplets, dropletDir(deps.dropletsDir, sha256)),
        )
      : null;
    const finished = new Date();
    const seconds = (finished.getTime() - started) / 1000;
    // The droplet and the time its staging took, together: the time is what finance charges the
    // department for, and outlives the droplet (decision 046).
    await deps.db.transaction().execute(async (trx) => {
      await repo.insertDroplet(trx, {
        sha256,
        bundle_sha256: req.bundleSha256,
        builder: builder.name,
        runtime_version: version,
        kind: req.kind,
        command: req.command,
        run,
        size_bytes: sizeBytes,
        staging_seconds: seconds,
        blob_sha256: archive?.sha256 ?? null,
      });
      await recordStaging(trx, {
        ...usageOf(req),
        outcome: 'staged',
        startedAt: new Date(started),
        finishedAt: finished,
      });
    });
    // Where the seconds went, for the person deploying and for the lead-time bench.
    log.say(`droplet ${sha256.slice(0, 12)} staged in ${seconds.toFixed(2)} s (${phases.summary()})`);
    return { sha256, dir: dropletDir(deps.dropletsDir, sha256), builder: builder.name, run, built: true };
  } catch (err) {
    // Kept, not charged (decision 046); a store that cannot take the row must not hide why the
    // staging failed, so a refusal here is left out of the error.
    await recordStaging(deps.db, {
      ...usageOf(req),
      outcome: 'failed',
      startedAt: new Date(started),
      finishedAt: new Date(),
    }).catch(() => undefined);
    if (err instanceof StagingFailed) {
      log.say(`staging failed: ${err.reason}`);
      throw err;
    }
    const reason = (err as Error).message;
    log.say(`staging failed: ${reason}`);
    // Output lines explain a program's failure; a limit or a platform problem is its own reason.
    const decisive = err instanceof StagingStopped && err.why === 'failed' ? decisiveLines(log.lines()) : [];
    throw new StagingFailed(reason, decisive);
  } finally {
    await log.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
