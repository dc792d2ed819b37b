/**
 * Staging as a Job in the department's namespace (decision 027): the `Stager` the composition
 * root gives the build capability when services run on Kubernetes, so that a build script never
 * runs in the control plane's pod. The control plane has already unpacked the bundle, picked its
 * builder and named the droplet (no program of the app's runs for that); the Job fetches the
 * bundle over a signed URL, builds it with the same builders, and uploads the droplet's archive
 * to a single-use signed URL. Its pod's log, followed, is the staging log.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { extract } from 'tar';
import type { BlobStore } from '../../blobs/blob-store.ts';
import type { DropletRun } from '../../build/build.tables.ts';
import { decisiveLines } from '../../build/decisive.ts';
import { BUILD_FAILED_EXIT, FAILED_MARK, type StageJobRequest } from '../../build/stage-job.ts';
import * as uploads from '../../build/staged-upload.repository.ts';
import { type BuildDeps, type BuildJob, type Stager, StagingFailed } from '../../build/stager.ts';
import { signStagingUrl } from '../../build/staging-urls.ts';
import type { Db } from '../../platform/database.ts';
import { findById } from '../../tenancy/department.repository.ts';
import { type DepartmentQuota, departmentObjects, type RouterPeer } from './department-objects.ts';
import type { KubeClient } from './kube-client.ts';
import { departmentNamespace } from './names.ts';
import { STAGING_LABEL, stagingObjects } from './staging-objects.ts';

export interface KubernetesStagerOptions {
  client: KubeClient;
  db: Db;
  /** Where uploaded droplet archives are kept (the droplets blob store). */
  droplets: BlobStore;
  /** GovHost's own image: it holds `govhost stage-job` and the builders. */
  image: string;
  /** The control plane's address as pods reach it, for the Job's signed URLs. */
  controlPlaneUrl: string;
  /** The staging URLs' signing key (staging-urls.ts). */
  urlKey: Buffer;
  router: RouterPeer;
  /** The department's quota, by its id, for its namespace's ResourceQuota. */
  quota(departmentId: string): Promise<DepartmentQuota>;
  /** Seconds the Job may take besides the build itself: fetching, archiving, uploading. */
  transferSec?: number;
  /** Added to the Job's deadline while waiting for it: its pod is scheduled and its image pulled first. */
  startMarginMs?: number;
}

/** How long a staging URL outlives the Job's deadline (see where the URLs are signed). */
const STAGING_URL_GRACE_SEC = 30;

/** How a Job's pod ended. */
interface Ended {
  exitCode: number;
  /** The pod's own reason (DeadlineExceeded), or the container's. */
  reason: string;
}

function ended(pod: IPod): Ended | null {
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (terminated)
    return { exitCode: terminated.exitCode, reason: pod.status?.reason ?? terminated.reason ?? '' };
  // Killed before its container ran (the deadline while it was pending).
  if (pod.status?.phase === 'Failed') return { exitCode: -1, reason: pod.status.reason ?? 'Failed' };
  return null;
}

const started = (pod: IPod) => {
  const state = pod.status?.containerStatuses?.[0]?.state;
  return Boolean(state?.running || state?.terminated);
};

export class KubernetesStager implements Stager {
  private readonly departments = new Set<string>();

  constructor(private readonly opts: KubernetesStagerOptions) {}

  async build(deps: BuildDeps, job: BuildJob): Promise<DropletRun> {
    const { req, log } = job;
    const { client, db } = this.opts;
    const department = await findById(db, req.departmentId);
    if (!department) throw new StagingFailed(`department ${req.departmentId} is gone`, []);
    const code = department.code.toLowerCase();
    if (!this.departments.has(code)) {
      // Staging comes before a department's first release: its namespace may not exist yet.
      for (const o of departmentObjects(code, await this.opts.quota(req.departmentId), this.opts.router))
        await client.apply(o as KubernetesObject);
      this.departments.add(code);
    }
    const transfer = this.opts.transferSec ?? 120;
    const deadlineSec = deps.limits.timeoutSec + transfer;
    const uploadId = randomBytes(16).toString('hex');
    await uploads.insertUpload(db, {
      id: uploadId,
      release_id: req.releaseId,
      max_bytes: deps.limits.diskMb * 1024 * 1024,
    });
    // The Job's deadline counts from when its controller starts it, a moment after these URLs are
    // signed, and the expiry is rounded down to a whole second: without a grace a pod still within
    // its deadline could find its URL expired and report that instead of the deadline.
    const sign = (kind: 'bundle' | 'upload', name: string) =>
      signStagingUrl(
        this.opts.controlPlaneUrl,
        this.opts.urlKey,
        kind,
        name,
        deadlineSec + STAGING_URL_GRACE_SEC,
      );
    const request: StageJobRequest = {
      releaseId: req.releaseId,
      departmentId: req.departmentId,
      bundleUrl: sign('bundle', req.bundleSha256),
      bundleSha256: req.bundleSha256,
      uploadUrl: sign('upload', uploadId),
      builder: job.builder.name,
      kind: req.kind,
      command: req.command,
      buildpacks: [...req.buildpacks],
      env: req.env,
      settings: deps.settings,
      limits: deps.limits,
    };
    const name = `stage-${req.releaseId.slice(0, 8).toLowerCase()}-${randomBytes(3).toString('hex')}`;
    const objects = stagingObjects({
      name,
      departmentCode: code,
      releaseId: req.releaseId,
      image: this.opts.image,
      request: JSON.stringify(request),
      deadlineSec,
      diskMb: deps.limits.diskMb,
    });
    const namespace = departmentNamespace(code);
    log.say(`staging in Job ${namespace}/${name} (image ${this.opts.image})`);
    try {
      for (const o of objects) await client.apply(o as KubernetesObject);
      const lines: string[] = [];
      const outcome = await this.follow(
        namespace,
        name,
        deadlineSec * 1000 + (this.opts.startMarginMs ?? 300_000),
        (l) => {
          lines.push(l);
          // The Job's own failure line: the reason below, said once by the staging.
          if (!l.startsWith(FAILED_MARK)) log.line(l);
        },
      );
      if (outcome.exitCode !== 0) throw failure(outcome, lines, deps.limits.timeoutSec);
      const got = await uploads.uploaded(db, uploadId);
      if (!got) throw new StagingFailed('the staging Job ended without uploading its droplet', []);
      // The droplet's files replace the bundle's: the rest of staging stores them as local staging's.
      await rm(job.appDir, { recursive: true, force: true });
      await mkdir(job.appDir, { mode: 0o700 });
      await pipeline(
        await this.opts.droplets.get(got.blobSha256),
        extract({ cwd: job.appDir, preserveOwner: false }),
      );
      return got.run;
    } finally {
      // The pod's log stays with the Job until its TTL; a finished staging leaves no request or URL.
      for (const o of objects) await client.delete(o as KubernetesObject).catch(() => undefined);
      await uploads.deleteUpload(db, uploadId);
    }
  }

  /**
   * Follows the Job's pod: its log from its start (every line, in order), to its end; the pod's
   * outcome, or a timeout when it never ends.
   */
  private follow(namespace: string, name: string, timeoutMs: number, onLine: (line: string) => void) {
    const { client } = this.opts;
    return new Promise<Ended>((resolve, reject) => {
      let seen = 0;
      let following: Promise<void> | null = null;
      let done = false;
      let watch: AbortController | null = null;
      const timer = setTimeout(
        () =>
          finish(
            null,
            new StagingFailed(`the staging Job did not end within ${Math.round(timeoutMs / 1000)} s`, []),
          ),
        timeoutMs,
      );
      const finish = (value: Ended | null, err?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        watch?.abort();
        if (value) resolve(value);
        else reject(err);
      };
      const line = (l: string) => {
        seen++;
        onLine(l);
      };
      const onPod = (pod: IPod) => {
        if (done) return;
        if (!following && started(pod))
          following = client.followPodLog(namespace, pod.metadata!.name!, 'stage', line);
        const end = ended(pod);
        if (!end) return;
        void (async () => {
          try {
            await following?.catch(() => undefined);
            // A stream cut short (the API server's limits) leaves lines out: read the rest.
            const all = await client
              .podLog(namespace, pod.metadata!.name!, undefined, 'stage')
              .catch(() => []);
            for (const l of all.slice(seen)) line(l);
            finish(end);
          } catch (err) {
            finish(null, err);
          }
        })();
      };
      const start = () =>
        client
          .watchPods(
            namespace,
            `${STAGING_LABEL}=${name}`,
            (phase, pod) => phase !== 'DELETED' && onPod(pod),
            (err) => {
              // The server ends watches after a while: a new one replays the pod (ADDED).
              if (!done) setTimeout(() => void start().catch((e) => finish(null, e)), err ? 1000 : 0).unref();
            },
          )
          .then((w) => {
            watch = w;
            if (done) w.abort();
          });
      start().catch((err) => finish(null, err));
    });
  }
}

/** Why a Job failed: the line it ended with, the build's decisive output lines, or the pod's reason. */
function failure(outcome: Ended, lines: string[], timeoutSec: number): StagingFailed {
  const at = lines.findLastIndex((l) => l.startsWith(FAILED_MARK));
  if (outcome.reason === 'DeadlineExceeded')
    return new StagingFailed(
      `staging took longer than its limit of ${timeoutSec} s`,
      decisiveLines(lines, 6, false),
    );
  if (at < 0)
    return new StagingFailed(
      `the staging Job failed (${outcome.reason || 'exit code'} ${outcome.exitCode})`,
      decisiveLines(lines),
    );
  const reason = lines[at]!.slice(FAILED_MARK.length);
  // Only a failed program's output explains it; a platform failure is its own reason (as locally).
  return new StagingFailed(
    reason,
    outcome.exitCode === BUILD_FAILED_EXIT ? decisiveLines(lines.slice(0, at)) : [],
  );
}
