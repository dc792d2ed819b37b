/**
 * The `build` script run as `npm run build` runs it, without npm: npm's own start-up (0.5–1 s on
 * this machine, more than the Express example's whole build) is paid on every deploy with a build
 * script, a warm one included. npm runs `prebuild`, `build` and `postbuild` each with `sh -c`, in
 * the package's folder, with `node_modules/.bin` first on PATH and `npm_*` variables; this does the
 * same. Where npm could do something else (an `.npmrc` in the app, workspaces, a service variable
 * that changes how npm runs scripts, a script that reads npm's own configuration), the build script
 * runs through `npm run build` as before.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BundleFiles } from '../bundle-files.ts';

export interface PackageScripts {
  name?: unknown;
  version?: unknown;
  config?: unknown;
  engines?: unknown;
  bin?: unknown;
  scripts?: Record<string, unknown>;
  workspaces?: unknown;
}

/** One step of the build: the program, its arguments and what it adds to the build's environment. */
export interface ScriptStep {
  event: string;
  script: string;
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** npm settings, from a service variable, that change how (or whether) npm runs a script. */
const SCRIPT_SETTINGS =
  /^npm_config_(script[-_]shell|ignore[-_]scripts|node[-_]options|workspaces?|if[-_]present)$/i;

/**
 * Why the build script must go through npm here, or null when running it directly does what npm
 * would (the usual case).
 */
export function needsNpm(
  files: BundleFiles,
  pkg: PackageScripts,
  serviceEnv: Readonly<Record<string, string>>,
  events: readonly string[] = ['prebuild', 'build', 'postbuild'],
): string | null {
  if (files.names.has('.npmrc')) return 'the app has an .npmrc';
  if (pkg.workspaces !== undefined) return 'package.json declares workspaces';
  const setting = Object.keys(serviceEnv).find((k) => SCRIPT_SETTINGS.test(k));
  if (setting) return `the service sets ${setting}`;
  for (const event of events) {
    const script = pkg.scripts?.[event];
    // npm's configuration is exported to scripts as npm_config_*: only npm knows all of it.
    if (typeof script === 'string' && /npm_config_|npm_execpath/i.test(script))
      return `the ${event} script reads npm's configuration`;
  }
  return null;
}

/** `npm_package_*` as npm sets them (npm RFC 183: name, version, config, engines, bin), flattened. */
function packageEnv(value: unknown, prefix: string, out: Record<string, string>): void {
  if (value === undefined) return;
  if (value === null || value === false) out[prefix] = '';
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) packageEnv(v, `${prefix}_${i}`, out);
  } else if (typeof value === 'object')
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      packageEnv(v, `${prefix}_${k}`, out);
  else out[prefix] = String(value);
}

/** The npm that comes with this Node, for `npm_execpath` (scripts that call it by that path). */
const NPM_CLI = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

/**
 * The steps npm would run for `npm run build`: `prebuild`, `build`, `postbuild` (those present),
 * each `sh -c <script>` with npm's variables. `basePath` is the build's PATH, after which npm puts
 * the app's `node_modules/.bin` (and its parent folders', which here are the platform's).
 */
export function buildSteps(appDir: string, pkg: PackageScripts, basePath: string): ScriptStep[] {
  const common: Record<string, string> = {
    ...folderVars(appDir, basePath),
    npm_command: 'run',
    ...packageVars(pkg),
  };
  const steps: ScriptStep[] = [];
  for (const event of ['prebuild', 'build', 'postbuild']) {
    const script = pkg.scripts?.[event];
    if (typeof script !== 'string' || script.trim() === '') continue;
    steps.push({
      event,
      script,
      file: '/bin/sh',
      args: ['-c', script],
      env: { ...common, npm_lifecycle_event: event, npm_lifecycle_script: script },
    });
  }
  return steps;
}

/** The variables npm gives a script that depend on where the app is and which Node runs it. */
export function folderVars(appDir: string, basePath: string): Record<string, string> {
  return {
    PATH: `${join(appDir, 'node_modules', '.bin')}:${basePath}`,
    INIT_CWD: appDir,
    NODE: process.execPath,
    npm_node_execpath: process.execPath,
    npm_package_json: join(appDir, 'package.json'),
    npm_config_local_prefix: appDir,
    ...(existsSync(NPM_CLI) ? { npm_execpath: NPM_CLI } : {}),
  };
}

function packageVars(pkg: PackageScripts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of ['name', 'version', 'config', 'engines', 'bin'] as const)
    packageEnv(pkg[field], `npm_package_${field}`, out);
  return out;
}

/** The start script as instances run it without npm: kept in the droplet, its folder added per instance. */
export interface DirectStart {
  script: string;
  /** npm's variables for `npm start` that do not depend on the folder (see `folderVars`). */
  env: Record<string, string>;
}

/**
 * `npm start` without npm: npm's start-up (1–3 s on a loaded machine) is paid at every instance
 * start, crash restarts and scale-outs included, and npm stands between the platform's signals and
 * the app. Run directly only when that is what npm would do: a `start` script, no `prestart` or
 * `poststart` (npm runs them around it), and nothing that makes npm run scripts differently.
 */
export function directStart(
  files: BundleFiles,
  pkg: PackageScripts,
  serviceEnv: Readonly<Record<string, string>>,
): DirectStart | { npm: string } {
  const script = pkg.scripts?.start;
  if (typeof script !== 'string' || script.trim() === '') return { npm: 'package.json has no start script' };
  for (const event of ['prestart', 'poststart']) {
    if (pkg.scripts?.[event] !== undefined) return { npm: `package.json has a ${event} script` };
  }
  const why = needsNpm(files, pkg, serviceEnv, ['start']);
  if (why !== null) return { npm: why };
  return {
    script,
    env: {
      ...packageVars(pkg),
      npm_command: 'start',
      npm_lifecycle_event: 'start',
      npm_lifecycle_script: script,
    },
  };
}

/** package.json's fields that scripts depend on; empty when it is missing or not JSON. */
export function packageScripts(files: BundleFiles): PackageScripts {
  try {
    const parsed: unknown = JSON.parse(files.text('package.json') ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as PackageScripts) : {};
  } catch {
    return {};
  }
}
