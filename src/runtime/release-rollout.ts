/**
 * A rollout at the release level, the same on every driver: the new release's instances first,
 * routes switched to their endpoints only once all are ready, then the old release drained and
 * stopped (on Kubernetes: its Deployment deleted). A release that does not become ready is
 * stopped, and the routes never leave the old one.
 */
import type { ReleaseDriver, ReleaseInstance, ReleaseSpec } from './release-driver.ts';

type Endpoint = NonNullable<ReleaseInstance['endpoint']>;

/** What a rollout needs of the router. */
export interface RouteSwitch {
  /** Points the service's route at these endpoints; resolves once the router has the table. */
  switchTo(serviceId: string, endpoints: Endpoint[]): Promise<void>;
  /** Resolves once the requests in flight to these endpoints have ended. */
  drain(endpoints: Endpoint[]): Promise<void>;
}

export type RolloutResult = { ok: true; instances: ReleaseInstance[] } | { ok: false; reason: string };

/** Rolls `spec` out over `previous` (a release id, or null for a first release). */
export async function rollRelease(
  driver: ReleaseDriver,
  spec: ReleaseSpec,
  previous: string | null,
  routes: RouteSwitch,
  opts: { readyTimeoutMs?: number; stopGraceMs?: number } = {},
): Promise<RolloutResult> {
  await driver.deploy(spec);
  const outcome = await driver.waitReady(spec.releaseId, opts.readyTimeoutMs);
  if (!outcome.ready) {
    await driver.stop(spec.releaseId, opts.stopGraceMs ?? 2000);
    return { ok: false, reason: outcome.reason };
  }
  const endpoints = outcome.instances.flatMap((i) => (i.endpoint ? [i.endpoint] : []));
  await routes.switchTo(spec.serviceId, endpoints);
  if (previous) {
    const old = driver.instances(previous).flatMap((i) => (i.endpoint ? [i.endpoint] : []));
    await routes.drain(old);
    await driver.stop(previous, opts.stopGraceMs ?? 10_000);
  }
  return { ok: true, instances: outcome.instances };
}
