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
  serviceEnv: Record<string, string>,
): string | null {
  if (files.names.has('.npmrc')) return 'the app has an .npmrc';
  if (pkg.workspaces !== undefined) return 'package.json declares workspaces';
  const setting = Object.keys(serviceEnv).find((k) => SCRIPT_SETTINGS.test(k));
  if (setting) return `the service sets ${setting}`;
  for (const event of ['prebuild', 'build', 'postbuild']) {
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
    PATH: `${join(appDir, 'node_modules', '.bin')}:${basePath}`,
    INIT_CWD: appDir,
    NODE: process.execPath,
    npm_node_execpath: process.execPath,
    npm_command: 'run',
    npm_package_json: join(appDir, 'package.json'),
    npm_config_local_prefix: appDir,
    ...(existsSync(NPM_CLI) ? { npm_execpath: NPM_CLI } : {}),
  };
  for (const field of ['name', 'version', 'config', 'engines', 'bin'] as const)
    packageEnv(pkg[field], `npm_package_${field}`, common);
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
