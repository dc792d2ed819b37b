/** What a pod (as a watch reports it) means in the driver contract's words. */
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { ReleaseInstance } from '../release-driver.ts';
import { LABELS } from './names.ts';
import { CONTAINER_PORT } from './release-objects.ts';

/** Waiting reasons after which a pod will not become ready without a change of its release. */
const HOPELESS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
]);

const appStatus = (pod: IPod) => pod.status?.containerStatuses?.find((c) => c.name === 'app');

/** The pod as one instance of its release. */
export function podInstance(pod: IPod): ReleaseInstance {
  const app = appStatus(pod);
  let state: ReleaseInstance['state'] = 'starting';
  if (pod.metadata?.deletionTimestamp) state = 'stopping';
  else if (app?.ready) state = 'ready';
  else if (app?.state?.waiting?.reason === 'CrashLoopBackOff' || app?.state?.terminated) state = 'crashed';
  else if (app?.started) state = 'unready';
  return {
    instanceId: pod.metadata?.name ?? '',
    serviceId: pod.metadata?.labels?.[LABELS.service] ?? '',
    releaseId: pod.metadata?.labels?.[LABELS.release] ?? '',
    state,
    restarts: app?.restartCount ?? 0,
    endpoint: pod.status?.podIP ? { host: pod.status.podIP, port: CONTAINER_PORT } : null,
  };
}

/**
 * Why a pod will not become ready, when its status says so for certain (a failed droplet fetch,
 * an image that cannot be pulled, an app that exits); null while it may yet become ready.
 */
export function podFailure(pod: IPod): string | null {
  const name = pod.metadata?.name ?? 'a pod';
  for (const init of pod.status?.initContainerStatuses ?? []) {
    const t = init.state?.terminated ?? init.lastState?.terminated;
    if (t && t.exitCode !== 0)
      return `${name}: ${init.name} failed (exit code ${t.exitCode}${t.message ? `: ${t.message}` : ''}): the droplet could not be fetched or did not match its sha256`;
    const w = init.state?.waiting?.reason;
    if (w && HOPELESS.has(w)) return `${name}: ${init.name} ${w}`;
  }
  const app = appStatus(pod);
  const waiting = app?.state?.waiting;
  if (waiting?.reason && HOPELESS.has(waiting.reason)) {
    const last = app?.lastState?.terminated;
    const exit = last ? ` after exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}` : '';
    return `${name}: ${waiting.reason}${exit}${waiting.message ? `: ${waiting.message}` : ''}`;
  }
  const terminated = app?.state?.terminated ?? app?.lastState?.terminated;
  if (terminated && !app?.ready) return `${name}: exited with code ${terminated.exitCode}`;
  return null;
}

/** What a pod that is still not ready is doing, for a timeout's reason. */
export function podProgress(pod: IPod): string {
  const app = appStatus(pod);
  const name = pod.metadata?.name ?? 'a pod';
  if (!app) return `${name}: ${pod.status?.phase ?? 'Pending'}, not started`;
  if (app.state?.waiting) return `${name}: waiting (${app.state.waiting.reason ?? 'no reason'})`;
  return `${name}: running, its health check has not passed`;
}
