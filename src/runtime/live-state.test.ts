import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLog } from '../router/log.ts';
import type { Route, RouteTable } from '../router/route-table.ts';
import { type RunningRouter, startRouter } from '../router/router.ts';
import { testDatabase } from '../test-support/database.ts';
import { liveState, nextRouteVersion } from './live-state.repository.ts';
import { LiveStatePublisher, storeVersioned } from './live-state.ts';
import { RouterClient } from './router-process.ts';

const route = (hostname: string): Route => ({
  hostname,
  service: 'D/s',
  kind: 'proxy',
  backends: [{ id: 'i1', url: 'http://127.0.0.1:9' }],
});

describe('route-table versions come from the store, not from the holder clock', () => {
  let store: Awaited<ReturnType<typeof testDatabase>>;
  before(async () => {
    store = await testDatabase();
  });
  after(() => store.close());

  /** Publishes `routes` as one runtime lease holder would, and returns the stored table. */
  async function publishAsHolder(routes: Route[]): Promise<RouteTable> {
    const publisher = new LiveStatePublisher({
      db: store.db,
      snapshot: () => ({ instances: [], services: [], state: {}, routes }),
      fence: async () => {},
      log: silentLog,
    });
    publisher.start();
    await publisher.stop();
    return (await liveState(store.db, 'routes')) as RouteTable;
  }

  it('a holder whose clock is an hour behind its predecessor still publishes a newer version', async (t) => {
    const first = await publishAsHolder([route('a.example')]);
    assert.ok(first.version > 0);
    assert.equal(first.routes[0]?.hostname, 'a.example');
    // The same routes from the same or another holder keep their version: routers fetch nothing.
    assert.equal((await publishAsHolder([route('a.example')])).version, first.version);
    // The next holder's clock is an hour behind.
    const realNow = Date.now.bind(Date);
    t.mock.method(Date, 'now', () => realNow() - 3_600_000);
    const second = await publishAsHolder([route('b.example')]);
    assert.equal(second.routes[0]?.hostname, 'b.example');
    assert.ok(second.version > first.version, `${second.version} > ${first.version}`);
  });

  describe('pushes to the holder router', () => {
    let router: RunningRouter;
    let client: RouterClient;
    before(async () => {
      const token = 'r'.repeat(24);
      router = await startRouter({ port: 0, adminPort: 0, adminToken: token, workers: 0, log: silentLog });
      client = new RouterClient({ pid: process.pid, port: router.port, adminPort: router.adminPort }, token);
    });
    after(() => router.close(0));

    const held = async () => {
      const res = await fetch(`http://127.0.0.1:${router.adminPort}/routes`, {
        headers: { authorization: `Bearer ${'r'.repeat(24)}` },
      });
      return (await res.json()) as RouteTable;
    };

    it('carry store versions that only grow, and jump past a newer one a router already holds', async (t) => {
      let pushed = 0;
      const control = storeVersioned(store.db, client, () => pushed++);
      await control.putRoutes({ version: 1, routes: [route('c.example')] });
      const first = await held();
      assert.equal(first.routes[0]?.hostname, 'c.example');
      assert.ok(first.version > 1, 'the version is the store one, not the caller one');
      // Another holder, its clock an hour behind: its table is still taken.
      const realNow = Date.now.bind(Date);
      t.mock.method(Date, 'now', () => realNow() - 3_600_000);
      await storeVersioned(store.db, client, () => pushed++).putRoutes({
        version: 1,
        routes: [route('d.example')],
      });
      const second = await held();
      assert.equal(second.routes[0]?.hostname, 'd.example');
      assert.ok(second.version > first.version);
      t.mock.restoreAll();
      // A router holding a version from a clock far ahead (an earlier release's): taken anyway.
      const ahead = second.version + 10 ** 9;
      await client.putRoutes({ version: ahead, routes: [route('e.example')] });
      await control.putRoutes({ version: 1, routes: [route('f.example')] });
      const third = await held();
      assert.equal(third.routes[0]?.hostname, 'f.example');
      assert.ok(third.version > ahead);
      assert.ok((await nextRouteVersion(store.db)) > third.version, 'the counter moved past it');
      assert.equal(pushed, 3);
    });
  });
});
