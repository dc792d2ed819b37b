/**
 * `govhost stage-job`: what a staging Job runs in the department's namespace (decision 027), so
 * that a build script never runs in the control plane. It fetches the release's bundle over its
 * signed URL and checks its sha256, stages it with the builders local staging uses (the same
 * `localStager`, here without cgroups: the pod's limits are the kernel's), and uploads the
 * droplet's archive to its single-use signed URL. Its output is the staging log (its pod's log,
 * which the control plane follows). Exit codes: 0 staged and uploaded; 2 the build failed (its
 * output says why); 1 anything else (the last line says what).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create } from 'tar';
import { hasher } from '../blobs/blob-store.ts';
import { extractBundle } from '../catalog/bundle-inspect.ts';
import { Phases } from '../platform/phases.ts';
import type { DropletRun } from './build.tables.ts';
import type { BuildSettings } from './builder.ts';
import { filesOfFolder } from './bundle-files.ts';
import { NO_CACHE } from './dependency-cache.ts';
import { detectBuilder } from './detect.ts';
import type { SandboxLimits } from './sandbox.ts';
import { StagingStopped } from './sandbox.ts';
import { buildRedactor, localStager, StagingFailed } from './stager.ts';
import { StagingLog } from './staging-log.ts';
import { ARCHIVE_SHA256_HEADER, DROPLET_RUN_HEADER } from './staging-urls.ts';

/** What the control plane tells a staging Job (in a Secret: the service's variables are in it). */
export interface StageJobRequest {
  releaseId: string;
  departmentId: string;
  bundleUrl: string;
  bundleSha256: string;
  uploadUrl: string;
  /** The builder the control plane picked: the Job must pick the same. */
  builder: string;
  kind: 'process' | 'static';
  command: string | null;
  buildpacks: string[];
  env: Record<string, string>;
  settings: BuildSettings;
  limits: SandboxLimits;
}

/** The env variables a staging Job reads: its request (from a Secret) and its work folder. */
export const STAGE_REQUEST_ENV = 'GOVHOST_STAGE_REQUEST';
export const STAGE_DIR_ENV = 'GOVHOST_STAGE_DIR';

/** Exit code of a Job whose build (a program of the app's) failed: its output says why. */
export const BUILD_FAILED_EXIT = 2;
/** The last line of a failed Job names the reason after this. */
export const FAILED_MARK = '-----> staging failed: ';

function problemDetail(status: number, body: string): string {
  try {
    const p = JSON.parse(body) as { detail?: string; code?: string };
    return `HTTP ${status} ${p.code ?? ''}: ${p.detail ?? ''}`.trim();
  } catch {
    return `HTTP ${status}`;
  }
}

async function fetchBundle(url: string, sha256: string, file: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body)
    throw new StagingFailed(
      `the bundle could not be fetched: ${problemDetail(res.status, await res.text())}`,
      [],
    );
  const tap = hasher();
  await pipeline(Readable.fromWeb(res.body as never), tap, createWriteStream(file, { mode: 0o600 }));
  const got = tap.result().sha256;
  if (got !== sha256) throw new StagingFailed(`the bundle fetched hashes to ${got}, not ${sha256}`, []);
}

/** The droplet folder as one tar (as the blob store keeps droplets); its sha256 and size. */
async function archive(appDir: string, file: string): Promise<{ sha256: string; size: number }> {
  const tap = hasher();
  // `portable`: no owner or host fields, as archiveDroplet makes them.
  const pack = create({ cwd: appDir, portable: true }, ['.']) as unknown as AsyncIterable<Buffer>;
  await pipeline(Readable.from(pack, { objectMode: false }), tap, createWriteStream(file, { mode: 0o600 }));
  const { sha256, sizeBytes } = tap.result();
  return { sha256, size: sizeBytes };
}

function upload(url: string, file: string, sum: { sha256: string; size: number }, run: DropletRun) {
  const u = new URL(url);
  return new Promise<void>((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'PUT',
        headers: {
          'content-type': 'application/x-tar',
          'content-length': String(sum.size),
          [ARCHIVE_SHA256_HEADER]: sum.sha256,
          [DROPLET_RUN_HEADER]: Buffer.from(JSON.stringify(run)).toString('base64url'),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 201) resolve();
          else
            reject(
              new StagingFailed(
                `the droplet could not be uploaded: ${problemDetail(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))}`,
                [],
              ),
            );
        });
      },
    );
    req.on('error', reject);
    createReadStream(file).on('error', reject).pipe(req);
  });
}

/** Runs one staging Job; resolves with its exit code. Everything it says goes to `out`. */
export async function runStageJob(
  request: StageJobRequest,
  workDir: string,
  out: NodeJS.WritableStream,
): Promise<number> {
  const log = StagingLog.toStream(out, buildRedactor(request.env, request.settings));
  const appDir = join(workDir, 'app');
  let code = 0;
  try {
    log.say('fetching the bundle');
    await mkdir(workDir, { recursive: true });
    const bundle = join(workDir, 'bundle.tar.gz');
    await fetchBundle(request.bundleUrl, request.bundleSha256, bundle);
    await extractBundle(bundle, appDir);
    const files = await filesOfFolder(appDir);
    const { builder } = await detectBuilder(
      { files, buildpacks: request.buildpacks, kind: request.kind, command: request.command },
      request.settings,
    );
    if (builder.name !== request.builder)
      throw new StagingFailed(`this bundle is for builder ${builder.name} here, not ${request.builder}`, []);
    const run = await localStager.build(
      { settings: request.settings, limits: request.limits, limiter: null, cache: NO_CACHE },
      {
        req: {
          releaseId: request.releaseId,
          serviceId: '',
          departmentId: request.departmentId,
          bundlePath: bundle,
          bundleSha256: request.bundleSha256,
          kind: request.kind,
          command: request.command,
          buildpacks: request.buildpacks,
          env: request.env,
          uid: null,
          progress: async () => {},
        },
        builder,
        files,
        appDir,
        scratch: workDir,
        log,
        phases: new Phases(),
      },
    );
    const file = join(workDir, 'droplet.tar');
    const sum = await archive(appDir, file);
    await upload(request.uploadUrl, file, sum, run);
    log.say(`droplet uploaded: ${sum.size} bytes, sha256 ${sum.sha256.slice(0, 12)}`);
  } catch (err) {
    code = err instanceof StagingStopped && err.why === 'failed' ? BUILD_FAILED_EXIT : 1;
    const reason = err instanceof StagingFailed ? err.reason : (err as Error).message;
    log.line(`${FAILED_MARK}${reason}`);
  } finally {
    await log.close();
  }
  return code;
}

/** The Job's request from its environment; throws a plain message when it is missing or malformed. */
export function stageJobRequestFromEnv(env: NodeJS.ProcessEnv): {
  request: StageJobRequest;
  workDir: string;
} {
  const raw = env[STAGE_REQUEST_ENV];
  const workDir = env[STAGE_DIR_ENV];
  if (!raw || !workDir)
    throw new Error(
      `govhost stage-job runs in a staging Job: ${STAGE_REQUEST_ENV} and ${STAGE_DIR_ENV} must be set`,
    );
  let request: StageJobRequest;
  try {
    request = JSON.parse(raw) as StageJobRequest;
  } catch (err) {
    throw new Error(`${STAGE_REQUEST_ENV} is not JSON: ${(err as Error).message}`);
  }
  for (const k of ['bundleUrl', 'bundleSha256', 'uploadUrl', 'builder'] as const)
    if (typeof request[k] !== 'string') throw new Error(`${STAGE_REQUEST_ENV} has no ${k}`);
  return { request, workDir };
}
