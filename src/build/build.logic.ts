/**
 * The build capability as others use it: detection at deploy, staging at rollout, droplets for
 * instances, staging logs for people, and collection of droplets no release names.
 */
import { join } from 'node:path';
import * as releases from '../catalog/release.repository.ts';
import { resolveService } from '../catalog/service.logic.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import type { DropletRun } from './build.tables.ts';
import { filesOfArchive } from './bundle-files.ts';
import { type DetectInput, detectBuilder } from './detect.ts';
import * as repo from './droplet.repository.ts';
import { dropletDir, pruneDroplets } from './droplet-store.ts';
import * as uploads from './staged-upload.repository.ts';
import { localDroplet, type StagedDroplet, type StageRequest, type StagerDeps, stage } from './stager.ts';
import { readStagingLog } from './staging-log.ts';

export { instanceStart } from './instance-start.ts';

/** How old a staging Job's upload URL must be to be removed: far past any staging's deadline. */
const STALE_UPLOAD_MS = 86_400_000;

/** How old an unused bundle must be to be collected: longer than any upload between store and record. */
const UPLOAD_GRACE_MS = 3_600_000;

export type { StagedDroplet, StageRequest } from './stager.ts';
export { StagingFailed } from './stager.ts';

/** The build capability, wired once by the composition root. */
export interface Build {
  /** Deploy-time detection: the builder and its warnings, or GOVHOST_BUNDLE_INVALID. */
  detect(input: {
    entries: ReadonlyMap<string, string>;
    contents: ReadonlyMap<string, Buffer>;
    buildpacks: readonly string[];
    kind: DetectInput['kind'];
    command: string | null;
  }): Promise<{ builder: string; description: string; warnings: string[] }>;
  stage(req: StageRequest): Promise<StagedDroplet>;
  /**
   * A stored droplet's folder on this host (unpacked from the blob store, verified, when this host
   * has none yet), or null when its row, or both its folder and its archive, are gone.
   */
  droplet(sha256: string): Promise<{ dir: string; run: DropletRun; builder: string } | null>;
  /** A verified local file of an uploaded bundle (fetched to this host's cache when needed). */
  bundleFile(sha256: string): Promise<string>;
  /** Removes droplets and bundles that no release names; returns how many of each. */
  collect(): Promise<{ droplets: number; bundles: number }>;
  logsDir: string;
}

export function createBuild(deps: StagerDeps): Build {
  return {
    logsDir: deps.logsDir,
    async detect(input) {
      const d = await detectBuilder(
        {
          files: filesOfArchive(input.entries, input.contents),
          buildpacks: input.buildpacks,
          kind: input.kind,
          command: input.command,
        },
        deps.settings,
      );
      return { builder: d.builder.name, description: d.description, warnings: d.warnings };
    },
    stage: (req) => stage(deps, req),
    async droplet(sha256) {
      const row = await repo.getDroplet(deps.db, sha256);
      if (!row || !(await localDroplet(deps, row))) return null;
      return { dir: dropletDir(deps.dropletsDir, sha256), run: row.run, builder: row.builder };
    },
    bundleFile: (sha256) => deps.blobs.bundles.file(sha256),
    async collect() {
      // A bundle or droplet is stored before its release is recorded: this runs at start, before
      // the API listens, so no upload is between the two.
      const used = await releases.artifactsInUse(deps.db);
      const gone = await pruneDroplets(deps.dropletsDir, used.droplets);
      const rows = (await repo.listDropletShas(deps.db)).filter((s) => !used.droplets.has(s));
      await repo.deleteDroplets(deps.db, [...new Set([...gone, ...rows])]);
      const archives = await repo.dropletBlobsInUse(deps.db, used.droplets);
      for (const sha of await deps.blobs.droplets.list()) {
        if (!archives.has(sha)) await deps.blobs.droplets.delete(sha);
      }
      let bundles = 0;
      // A bundle is stored before its release is recorded, and another replica's API may be
      // between the two right now: only bundles older than any upload in progress go.
      for (const sha of await deps.blobs.bundles.list(UPLOAD_GRACE_MS)) {
        if (used.bundles.has(sha)) continue;
        await deps.blobs.bundles.delete(sha);
        bundles++;
      }
      await deps.blobs.bundles.sweep();
      await deps.blobs.droplets.sweep();
      // A staging Job's upload URL outlives its staging only when the process waiting died.
      await uploads.deleteStaleUploads(deps.db, STALE_UPLOAD_MS);
      return { droplets: new Set([...gone, ...rows]).size, bundles };
    },
  };
}

/**
 * A release's staging output from `offset`; `done` once the staging has ended. Reads only the
 * store and the log file, so any API process answers it.
 */
export async function stagingLog(
  db: Db,
  logsDir: string,
  caller: Principal,
  department: string,
  slug: string,
  query: { release?: number; offset: number },
) {
  const svc = await resolveService(db, caller, department, slug);
  authorize(caller, 'service:read');
  const release =
    query.release === undefined
      ? (await releases.listReleases(db, svc.id, 1))[0]
      : await releases.findReleaseByVersion(db, svc.id, query.release);
  if (!release) {
    throw new DomainError(
      'GOVHOST_RELEASE_NOT_FOUND',
      query.release === undefined
        ? `${department}/${slug} has no release`
        : `${department}/${slug} has no release v${query.release}`,
    );
  }
  const log = await readStagingLog(logsDir, release.id, query.offset);
  const done =
    release.droplet_sha256 !== null ||
    release.status === 'failed' ||
    release.status === 'live' ||
    release.status === 'superseded';
  return {
    release: release.version,
    text: log?.text ?? '',
    nextOffset: log?.nextOffset ?? 0,
    done,
    staged: log !== null,
  };
}

export const buildPaths = (dataDir: string) => ({
  dropletsDir: join(dataDir, 'droplets'),
  logsDir: join(dataDir, 'build', 'logs'),
});

/** The build's settings and limits as the platform's configuration gives them. */
export function buildConfig(config: Config): Pick<StagerDeps, 'settings' | 'limits'> {
  return {
    settings: {
      npmRegistry: config.npmRegistry,
      pipIndexUrl: config.pipIndexUrl,
      python: config.buildPython,
    },
    limits: {
      memoryMb: config.buildMemoryMb,
      cpus: config.buildCpus,
      timeoutSec: config.buildTimeoutSec,
      diskMb: config.buildDiskMb,
    },
  };
}
