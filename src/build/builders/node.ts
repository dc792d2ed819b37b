/**
 * Node apps (`package.json`), staged as Heroku's Node buildpack does: `npm ci` with a lockfile,
 * else `npm install`, devDependencies included; the `build` script when there is one; then
 * `npm prune --omit=dev`. `engines.node` is checked against the host's Node at deploy.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { DomainError } from '../../platform/errors.ts';
import { AS_IS, type Builder, buildPath, type StagingContext } from '../builder.ts';
import type { BundleFiles } from '../bundle-files.ts';
import { buildSteps, needsNpm } from './npm-scripts.ts';

interface PackageJson {
  name?: unknown;
  version?: unknown;
  workspaces?: unknown;
  scripts?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
  optionalDependencies?: Record<string, unknown>;
  engines?: { node?: unknown };
}

const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json'];

/** The npm that comes with the Node the platform runs on. */
export const NPM = join(dirname(process.execPath), 'npm');

function pkgOf(files: BundleFiles): PackageJson {
  const text = files.text('package.json');
  if (text === null) return {};
  try {
    const json = JSON.parse(text) as unknown;
    return typeof json === 'object' && json !== null ? (json as PackageJson) : {};
  } catch (err) {
    throw new DomainError(
      'GOVHOST_BUNDLE_INVALID',
      `package.json is not valid JSON: ${(err as Error).message}`,
    );
  }
}

const count = (deps: Record<string, unknown> | undefined) => Object.keys(deps ?? {}).length;
const hasBuild = (pkg: PackageJson) =>
  typeof pkg.scripts?.build === 'string' && pkg.scripts.build.trim() !== '';
const hasLock = (files: BundleFiles) => LOCKFILES.some((f) => files.names.has(f));

let npmVersion: Promise<string> | null = null;

export const nodeBuilder: Builder = {
  name: 'node',
  buildpack: 'nodejs_buildpack',
  detect: (files) => files.names.has('package.json'),

  async check(files) {
    const range = pkgOf(files).engines?.node;
    if (typeof range !== 'string' || range.trim() === '') return [];
    const host = process.versions.node;
    if (!semver.validRange(range)) {
      return [`package.json engines.node "${range}" is not a version range; the app runs on Node ${host}`];
    }
    if (semver.satisfies(host, range)) return [];
    // Asking for an older major than ours usually still runs; asking for a newer one cannot.
    const min = semver.minVersion(range);
    if (min && semver.gt(min, host)) {
      throw new DomainError(
        'GOVHOST_BUNDLE_INVALID',
        `package.json engines.node asks for Node ${range}, and this platform runs Node ${host}: lower the requirement or ask the operators for a newer Node`,
      );
    }
    return [`package.json engines.node asks for Node ${range}; the app will run on Node ${host}`];
  },

  describe(files) {
    const pkg = pkgOf(files);
    if (this.nothingToDo(files)) return 'nothing to install';
    const steps = [hasLock(files) ? 'npm ci' : 'npm install'];
    if (hasBuild(pkg)) steps.push('npm run build');
    steps.push('npm prune --omit=dev');
    return steps.join(', ');
  },

  async version() {
    npmVersion ??= promisify(execFile)(NPM, ['--version'], { env: { PATH: dirname(process.execPath) } }).then(
      (r) => r.stdout.trim(),
      () => 'unknown',
    );
    return `node ${process.versions.node} npm ${await npmVersion}`;
  },

  nothingToDo(files) {
    const pkg = pkgOf(files);
    return (
      count(pkg.dependencies) + count(pkg.devDependencies) + count(pkg.optionalDependencies) === 0 &&
      !hasBuild(pkg)
    );
  },

  async stage(ctx) {
    const pkg = pkgOf(ctx.files);
    if (this.nothingToDo(ctx.files)) {
      ctx.say('no dependencies and no build script: nothing to install');
      return AS_IS;
    }
    const lock = LOCKFILES.find((f) => ctx.files.names.has(f));
    // What decides the install: the lockfile, and the declared dependencies (`npm ci` refuses a
    // lockfile that no longer matches them, so a cached install must not outlive that either).
    const inputs = (variant: string) =>
      createHash('sha256')
        .update(lock ? (ctx.files.text(lock) ?? '') : '')
        .update('\0')
        .update(
          JSON.stringify([
            pkg.dependencies,
            pkg.devDependencies,
            pkg.optionalDependencies,
            (pkg as { overrides?: unknown }).overrides,
            lock ? 'ci' : 'install',
            variant,
          ]),
        )
        .digest('hex');
    const runtimeVersion = await this.version(ctx.settings);
    const key = (variant: 'all' | 'production') => ({
      departmentId: ctx.departmentId,
      builder: 'node',
      inputsSha256: inputs(variant),
      runtimeVersion,
    });
    const modules = join(ctx.appDir, 'node_modules');
    const build = hasBuild(pkg);
    // Two entries: the full install (devDependencies too), which a build script needs, and the
    // production install `npm prune --omit=dev` leaves, which the droplet keeps. A warm deploy
    // runs neither npm ci nor npm prune; the build script still runs (its output depends on the
    // app's files, and an unchanged bundle reuses its whole droplet anyway).
    const production = key('production');
    if (!build && (await ctx.cache.restore(production, modules))) {
      ctx.say('dependencies from the cache: no npm ci, no npm prune');
      return AS_IS;
    }
    const warm = build && (await ctx.cache.restore(key('all'), modules));
    if (warm) {
      ctx.say('dependencies (with devDependencies) from the cache: no npm ci');
    } else {
      // Development dependencies are installed whatever NODE_ENV the service sets: the build needs them.
      const flags = ['--include=dev', '--no-audit', '--no-fund'];
      if (lock) {
        ctx.say(`installing dependencies: npm ci (${lock})`);
        await ctx.run(NPM, ['ci', ...flags]);
      } else {
        ctx.say('installing dependencies: npm install (no package-lock.json)');
        await ctx.run(NPM, ['install', ...flags]);
      }
      if (build) await ctx.cache.keep(key('all'), modules);
    }
    if (build) await runBuildScript(ctx, pkg);
    if (build) {
      // Without devDependencies the full install from the cache is already the production one
      // (`npm prune --omit=dev` of an `npm ci` would remove nothing): no second copy.
      if (warm && count(pkg.devDependencies) === 0) {
        ctx.say('no devDependencies: the cached install is the production one, no npm prune');
        return AS_IS;
      }
      if (await ctx.cache.restore(production, modules)) {
        ctx.say('production dependencies from the cache: no npm prune');
        return AS_IS;
      }
    }
    ctx.say('removing development dependencies: npm prune --omit=dev');
    await ctx.run(NPM, ['prune', '--omit=dev', '--no-audit', '--no-fund']);
    await ctx.cache.keep(production, modules);
    return AS_IS;
  },
};

/** `npm run build`, without npm's start-up where that changes nothing (see npm-scripts.ts). */
async function runBuildScript(ctx: StagingContext, pkg: PackageJson): Promise<void> {
  const why = needsNpm(ctx.files, pkg, ctx.serviceEnv);
  if (why !== null) {
    ctx.say(`running the build script: npm run build (through npm: ${why})`);
    await ctx.run(NPM, ['run', 'build']);
    return;
  }
  ctx.say("running the build script as npm run build would, without npm's start-up");
  for (const step of buildSteps(ctx.appDir, pkg, buildPath())) {
    await ctx.run(step.file, step.args, step.env, {
      log: `${step.script}   (${step.event})`,
      phase: 'build script',
    });
  }
}
