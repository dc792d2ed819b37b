/**
 * The runtime conformance suite: the behaviour every ReleaseDriver must show, written once and
 * run against each driver through a harness (`local.conformance.test.ts` with real processes,
 * `kubernetes.conformance.test.ts` against the FakeKubeApi and, when GOVHOST_TEST_KUBECONFIG is
 * set, a real cluster). Waits are on the driver's events or bounded, never sleeps.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { nextEvent, type ReleaseDriver, type ReleaseInstance, type ReleaseSpec } from '../release-driver.ts';
import { type RouteSwitch, rollRelease } from '../release-rollout.ts';

/**
 * The app every conformance release runs: `/` names its release, `/healthz` fails when
 * GOVHOST_TEST_SICK=1, `/crash` exits with code 3, and it logs one line when it listens.
 */
export const CONFORMANCE_APP_JS = `
const http = require('node:http');
const release = process.env.GOVHOST_RELEASE;
http.createServer((req, res) => {
  if (req.url === '/healthz') { res.statusCode = process.env.GOVHOST_TEST_SICK === '1' ? 500 : 200; return res.end(); }
  if (req.url === '/crash') { res.end('bye'); return setImmediate(() => process.exit(3)); }
  res.end('release ' + release);
}).listen(Number(process.env.PORT), () => console.log('conformance app ' + release + ' listening'));
`;

export interface AppOptions {
  version: number;
  instances: number;
  /** False: the health check never passes. */
  healthy?: boolean;
}

/** What the suite needs of a driver under test. */
export interface ConformanceHarness {
  driver: ReleaseDriver;
  /** A release of the conformance app (a fresh release id each call). */
  spec(opts: AppOptions): ReleaseSpec;
  /** GET on one instance; null when the harness cannot reach instances (the fake). */
  get: ((instance: ReleaseInstance, path: string) => Promise<{ status: number; body: string }>) | null;
  /** Makes one instance's process exit, as a crash would. */
  crash(instance: ReleaseInstance): Promise<void>;
  /** How long a ready release may take here (a cluster pulls images). */
  readyMs: number;
  cleanup(): Promise<void>;
}

/** Common parts of a conformance release; harnesses add the artifact. */
export function baseSpec(opts: AppOptions, artifact: ReleaseSpec['artifact']): ReleaseSpec {
  const releaseId = `conf-${randomBytes(4).toString('hex')}`;
  return {
    serviceId: 'svc-conformance',
    serviceKey: 'CONF/app',
    releaseId,
    version: opts.version,
    instances: opts.instances,
    memoryMb: 128,
    cpu: 0.25,
    diskMb: 64,
    // A sick release fails within seconds, not the manifest default's minute.
    healthCheck: { type: 'http', endpoint: '/healthz', startTimeoutSec: 4, intervalMs: 200 },
    env: {
      GOVHOST_RELEASE: `v${opts.version}`,
      ...(opts.healthy === false ? { GOVHOST_TEST_SICK: '1' } : {}),
    },
    secretEnv: { GOVHOST_TEST_SECRET: 'not-for-logs' },
    artifact,
    tier: 'bronze',
  };
}

/** Registers the suite under `name`; `skip` (a reason) skips it whole. */
export function conformanceSuite(name: string, make: () => Promise<ConformanceHarness>, skip?: string): void {
  describe(name, { skip }, () => {
    let h: ConformanceHarness;
    before(async () => {
      h = await make();
    });
    after(() => h?.cleanup());

    const deployReady = async (opts: AppOptions) => {
      const spec = h.spec(opts);
      await h.driver.deploy(spec);
      const outcome = await h.driver.waitReady(spec.releaseId, h.readyMs);
      assert.equal(outcome.ready, true, outcome.ready ? '' : outcome.reason);
      return spec;
    };
    const readyOf = (releaseId: string) => h.driver.instances(releaseId).filter((i) => i.state === 'ready');

    it('deploys a release with N instances that become ready, each at its own endpoint', async () => {
      const spec = await deployReady({ version: 1, instances: 2 });
      const ready = readyOf(spec.releaseId);
      assert.equal(ready.length, 2);
      const endpoints = new Set(ready.map((i) => `${i.endpoint?.host}:${i.endpoint?.port}`));
      assert.equal(endpoints.size, 2, 'two instances, two endpoints');
      if (h.get) for (const i of ready) assert.equal((await h.get(i, '/')).body, 'release v1');
      await h.driver.stop(spec.releaseId, 2000);
    });

    it('gates on health: a release whose check never passes is not ready, with the reason', async () => {
      const spec = h.spec({ version: 1, instances: 1, healthy: false });
      let readyEvents = 0;
      const count = (e: { instance: ReleaseInstance }) => {
        if (e.instance.releaseId === spec.releaseId && e.instance.state === 'ready') readyEvents++;
      };
      h.driver.on('instance', count);
      await h.driver.deploy(spec);
      // The driver's own limit: the manifest's start timeout.
      const outcome = await h.driver.waitReady(spec.releaseId);
      h.driver.off('instance', count);
      assert.equal(outcome.ready, false);
      assert.ok(!outcome.ready && outcome.reason.length > 0, 'a reason is given');
      assert.equal(readyEvents, 0, 'never reported ready');
      await h.driver.stop(spec.releaseId, 1000);
    });

    it('rolls a new release out beside the old one, which serves until it is stopped', async () => {
      const v1 = await deployReady({ version: 1, instances: 1 });
      const v2 = await deployReady({ version: 2, instances: 1 });
      assert.equal(readyOf(v1.releaseId).length, 1, 'v1 still ready while v2 comes up');
      assert.equal(readyOf(v2.releaseId).length, 1);
      await h.driver.stop(v1.releaseId, 2000);
      assert.deepEqual(h.driver.instances(v1.releaseId), []);
      const [only] = readyOf(v2.releaseId);
      if (h.get && only) assert.equal((await h.get(only, '/')).body, 'release v2');
      await h.driver.stop(v2.releaseId, 2000);
    });

    it('switches routes to the new release only once it is ready, then stops the old; a failed one never gets them', async () => {
      const log: string[] = [];
      const routes: RouteSwitch = {
        switchTo: async (_spec, instances) => {
          log.push(`switch ${instances.map((i) => `${i.endpoint?.host}:${i.endpoint?.port}`).join(',')}`);
        },
        drain: async (instances) => {
          log.push(`drain ${instances.length}`);
        },
      };
      const v1 = h.spec({ version: 1, instances: 1 });
      assert.equal((await rollRelease(h.driver, v1, null, routes, { readyTimeoutMs: h.readyMs })).ok, true);
      const [first] = readyOf(v1.releaseId);
      assert.deepEqual(log, [`switch ${first?.endpoint?.host}:${first?.endpoint?.port}`]);
      const bad = h.spec({ version: 2, instances: 1, healthy: false });
      const failed = await rollRelease(h.driver, bad, v1.releaseId, routes);
      assert.equal(failed.ok, false);
      assert.equal(log.length, 1, 'no switch, no drain for a release that never became ready');
      assert.deepEqual(h.driver.instances(bad.releaseId), [], 'the failed release is stopped');
      assert.equal(readyOf(v1.releaseId).length, 1, 'v1 still serves');
      const v3 = h.spec({ version: 3, instances: 2 });
      const done = await rollRelease(h.driver, v3, v1.releaseId, routes, { readyTimeoutMs: h.readyMs });
      assert.ok(done.ok);
      assert.equal(log.length, 3);
      assert.match(log[1] ?? '', /^switch [^,]+,[^,]+$/, 'two endpoints of v3');
      assert.equal(log[2], 'drain 1', 'the old instance is drained after the switch');
      assert.deepEqual(h.driver.instances(v1.releaseId), [], 'then v1 is stopped');
      if (h.get) for (const i of done.instances) assert.equal((await h.get(i, '/')).body, 'release v3');
      await h.driver.stop(v3.releaseId, 2000);
    });

    it('keeps the old release serving when the new one fails its health check', async () => {
      const v1 = await deployReady({ version: 1, instances: 1 });
      const v2 = h.spec({ version: 2, instances: 1, healthy: false });
      await h.driver.deploy(v2);
      const outcome = await h.driver.waitReady(v2.releaseId);
      assert.equal(outcome.ready, false);
      await h.driver.stop(v2.releaseId, 1000);
      const [old] = readyOf(v1.releaseId);
      assert.ok(old, 'v1 is still ready');
      if (h.get) assert.equal((await h.get(old, '/')).body, 'release v1');
      await h.driver.stop(v1.releaseId, 2000);
    });

    it('scales a release up and down', async () => {
      const spec = await deployReady({ version: 1, instances: 1 });
      await h.driver.scale(spec.releaseId, 3);
      const outcome = await h.driver.waitReady(spec.releaseId, h.readyMs);
      assert.equal(outcome.ready, true);
      assert.equal(readyOf(spec.releaseId).length, 3);
      await h.driver.scale(spec.releaseId, 1);
      // Surplus instances are gone once scale resolves, not merely on their way out.
      assert.equal(h.driver.instances(spec.releaseId).length, 1);
      await h.driver.stop(spec.releaseId, 2000);
    });

    it('restarts an instance that crashes and reports the restart as an event', async () => {
      const spec = await deployReady({ version: 1, instances: 1 });
      const [instance] = readyOf(spec.releaseId);
      assert.ok(instance);
      const back = nextEvent(
        h.driver,
        (e) =>
          e.instance.instanceId === instance.instanceId &&
          e.instance.restarts >= 1 &&
          e.instance.state === 'ready',
        h.readyMs,
        'the crashed instance to be ready again',
      );
      await h.crash(instance);
      const event = await back;
      assert.ok(event.instance.restarts >= 1);
      await h.driver.stop(spec.releaseId, 2000);
    });

    it('gives the logs of a release’s instances', async () => {
      const spec = await deployReady({ version: 3, instances: 1 });
      const lines = await h.driver.logs(spec.releaseId, { tail: 50 });
      assert.ok(
        lines.some((l) => l.includes('conformance app v3 listening')),
        `log lines: ${JSON.stringify(lines)}`,
      );
      await h.driver.stop(spec.releaseId, 2000);
    });

    it('stops a release: no instance is left and its endpoints stop answering', async () => {
      const spec = await deployReady({ version: 1, instances: 2 });
      const ready = readyOf(spec.releaseId);
      await h.driver.stop(spec.releaseId, 2000);
      assert.deepEqual(h.driver.instances(spec.releaseId), []);
      if (h.get) for (const i of ready) assert.equal((await h.get(i, '/')).status, 0, 'nothing answers');
    });

    it('lists every instance with its service and release; removes given instances, lowering the count', async () => {
      const spec = await deployReady({ version: 1, instances: 2 });
      const listed = h.driver.list().filter((i) => i.releaseId === spec.releaseId);
      assert.equal(listed.length, 2);
      assert.ok(listed.every((i) => i.serviceId === spec.serviceId));
      await h.driver.remove(spec.releaseId, [listed[0]!.instanceId], 2000);
      assert.equal(h.driver.instances(spec.releaseId).length, 1);
      await h.driver.stop(spec.releaseId, 2000);
      assert.deepEqual(
        h.driver.list().filter((i) => i.releaseId === spec.releaseId),
        [],
      );
    });

    it('renews a release (a restart): a fresh set becomes ready, then the old ids are removed', async () => {
      const spec = await deployReady({ version: 1, instances: 2 });
      const before = h.driver.instances(spec.releaseId).map((i) => i.instanceId);
      const old = await h.driver.renew(spec.releaseId);
      // Drivers that replace instances themselves (Kubernetes) hand back none.
      for (const id of old) assert.ok(before.includes(id));
      const outcome = await h.driver.waitReady(spec.releaseId, h.readyMs);
      assert.equal(outcome.ready, true, outcome.ready ? '' : outcome.reason);
      await h.driver.remove(spec.releaseId, old, 2000);
      const now = readyOf(spec.releaseId);
      assert.equal(now.length, 2);
      for (const id of old) assert.ok(!now.some((i) => i.instanceId === id), 'the old instances are gone');
      if (h.get) for (const i of now) assert.equal((await h.get(i, '/')).body, 'release v1');
      await h.driver.stop(spec.releaseId, 2000);
    });
  });
}
