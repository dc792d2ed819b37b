/**
 * The contract every builder keeps. A builder is a small module: it recognises an app by its
 * files, checks at deploy what it can check without running anything, and stages the app (as the
 * service's own user, in a scratch folder, within limits) into what a droplet holds.
 */
import { dirname } from 'node:path';
import type { DropletRun } from './build.tables.ts';
import type { BundleFiles } from './bundle-files.ts';
import type { DependencyCache } from './dependency-cache.ts';

export const BUILDER_NAMES = ['node', 'python', 'java', 'static', 'prebuilt'] as const;
export type BuilderName = (typeof BUILDER_NAMES)[number];

/** Platform settings a staging is given (config, frozen). */
export interface BuildSettings {
  npmRegistry: string | null;
  pipIndexUrl: string | null;
  python: string;
}

/** PATH for builds: this Node's folder (npm, node) and the system's. */
export const buildPath = () =>
  [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin']
    .filter((d, i, a) => a.indexOf(d) === i)
    .join(':');

/** What a builder may do while staging. */
export interface StagingContext {
  /** The app folder being staged (the bundle, unpacked); it becomes the droplet. */
  appDir: string;
  /** The department whose service this is (the cache is per department). */
  departmentId: string;
  files: BundleFiles;
  settings: BuildSettings;
  cache: DependencyCache;
  /** The service's variables, which the build sees (a builder may need to know what they change). */
  serviceEnv: Readonly<Record<string, string>>;
  /**
   * Runs a program in the sandbox, in `appDir`, with `env` added to the build's environment;
   * rejects (with the reason) when it fails. `as` says how the step shows in the log (`$ …`) and
   * in its timings (default: the program and its arguments; the timing leaves the options out).
   */
  run(
    file: string,
    args: string[],
    env?: Record<string, string>,
    as?: { log: string; phase: string },
  ): Promise<void>;
  /** A line of the platform's own in the staging log (`-----> installing dependencies`). */
  say(line: string): void;
}

export interface Builder {
  name: BuilderName;
  /** The Cloud Foundry buildpack this builder stands in for, as a manifest names it. */
  buildpack: string;
  /** Whether the files are an app of this kind. */
  detect(files: BundleFiles): boolean;
  /**
   * Deploy-time checks that need no process (engines, runtime.txt): warnings to show, or a
   * DomainError when the app cannot work here.
   */
  check(files: BundleFiles, settings: BuildSettings): Promise<string[]>;
  /** What staging will do, for the person deploying: `npm ci, the build script, npm prune`. */
  describe(files: BundleFiles): string;
  /** Builder and runtime versions: part of the droplet's name, so an upgrade stages again. */
  version(settings: BuildSettings): Promise<string>;
  /** True when staging installs nothing (a static site, a prebuilt app): no sandbox is started. */
  nothingToDo(files: BundleFiles): boolean;
  stage(ctx: StagingContext): Promise<DropletRun>;
}

/** How a droplet that installs nothing runs: as it is. */
export const AS_IS: DropletRun = { pathPrepend: [], pathEnv: {} };
