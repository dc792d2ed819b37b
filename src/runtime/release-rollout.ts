/**
 * A rollout at the release level, the same on every driver: the new release's instances first,
 * routes switched to them only once all are ready, then the old release drained and stopped
 * (on Kubernetes: its Deployment deleted). A release that does not become ready is stopped, and
 * the routes never leave the old one.
 */
import { decisiveLines } from '../build/decisive.ts';
import { Phases } from '../platform/phases.ts';
import type { ReleaseDriver, ReleaseInstance, ReleaseSpec } from './release-driver.ts';

/** What a rollout needs of the router. */
export interface RouteSwitch {
  /** Makes `spec` the serving release (its ready instances the backends); resolves once the router has the table. */
  switchTo(spec: ReleaseSpec, instances: ReleaseInstance[]): Promise<void>;
  /** Takes these instances out of the routes and resolves once the requests in flight to them have ended. */
  drain(instances: ReleaseInstance[]): Promise<void>;
}

export type RolloutResult =
  | { ok: true; instances: ReleaseInstance[] }
  | {
      ok: false;
      reason: string;
      /** The instance whose failure decided it, when one did. */
      instanceId?: string;
      /** The lines of its output that say why (`Cannot find module 'express'`), read before it stopped. */
      decisive: string[];
    };

/** How many of the end of a failed instance's output are searched for the lines that say why. */
const FAILED_LOG_LINES = 2000;

/** Rolls `spec` out over `previous` (a release id, or null for a first release). */
export async function rollRelease(
  driver: ReleaseDriver,
  spec: ReleaseSpec,
  previous: string | null,
  routes: RouteSwitch,
  opts: { readyTimeoutMs?: number; stopGraceMs?: number; phases?: Phases } = {},
): Promise<RolloutResult> {
  const phases = opts.phases ?? new Phases();
  let outcome: Awaited<ReturnType<ReleaseDriver['waitReady']>>;
  try {
    await driver.deploy(spec, phases);
    outcome = await phases.time('health wait', () => driver.waitReady(spec.releaseId, opts.readyTimeoutMs));
  } catch (err) {
    outcome = { ready: false, reason: (err as Error).message };
  }
  if (!outcome.ready) {
    const { instanceId } = outcome;
    // Only lines that match: an app that simply fails its check has said nothing decisive, and
    // the reason already names the check.
    const decisive = instanceId
      ? decisiveLines(
          await driver
            .logs(spec.releaseId, { tail: FAILED_LOG_LINES, instanceId })
            .catch(() => [] as string[]),
          4,
          false,
        )
      : [];
    await driver.stop(spec.releaseId, opts.stopGraceMs ?? 2000).catch(() => undefined);
    return { ok: false, reason: outcome.reason, ...(instanceId ? { instanceId } : {}), decisive };
  }
  await routes.switchTo(spec, outcome.instances);
  if (previous && previous !== spec.releaseId) {
    await routes.drain(driver.instances(previous));
    await driver.stop(previous, opts.stopGraceMs ?? 10_000);
  }
  return { ok: true, instances: outcome.instances };
}
