/** The conformance suite against the local driver: real processes on loopback. */
import { LocalReleaseDriver } from '../local/local-release-driver.ts';
import { Fixture, httpGet, NODE } from '../local/test-helpers.ts';
import { baseSpec, CONFORMANCE_APP_JS, conformanceSuite } from './conformance.ts';

conformanceSuite('runtime conformance: local driver (real processes)', async () => {
  const fx = new Fixture();
  const driver = new LocalReleaseDriver({ supervisor: fx.supervisor() });
  const dir = fx.workDir({ 'app.js': CONFORMANCE_APP_JS });
  return {
    driver,
    spec: (opts) =>
      baseSpec(opts, {
        kind: 'droplet',
        sha256: '0'.repeat(64),
        builder: 'node',
        command: `${NODE} app.js`,
        dir,
      }),
    get: (instance, path) => httpGet(instance.endpoint!.port, path),
    crash: async (instance) => {
      await httpGet(instance.endpoint!.port, '/crash');
    },
    readyMs: 20_000,
    cleanup: async () => {
      await driver.close();
      await fx.cleanup();
    },
  };
});
