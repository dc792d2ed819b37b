import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Route, RouteTable } from '../router/route-table.ts';
import type { Principal } from '../tenancy/principal.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { until } from '../test-support/until.ts';
import { liveState, writeSnapshot } from './live-state.repository.ts';
import { RouteWatch } from './route-stream.ts';

const route = (hostname: string): Route => ({
  hostname,
  service: 'D/s',
  kind: 'proxy',
  backends: [{ id: 'i1', url: 'http://127.0.0.1:9' }],
});

describe('the route stream long poll', () => {
  let t: TestApp;
  let operator: string;
  before(async () => {
    t = await testApp({ routeStreamWaiters: 1 });
    operator = (await t.user('operator', undefined, 'read')).token;
  });
  after(() => t.close());

  /** Publishes `hostname` as the only route, as the runtime lease holder does; returns its version. */
  async function publish(hostname: string): Promise<number> {
    await writeSnapshot(t.db, { instances: [], services: [], state: {}, routes: [route(hostname)] });
    return ((await liveState(t.db, 'routes')) as RouteTable).version;
  }

  it('one watcher reads the version alone while routers wait, and the table once per new version', async () => {
    const v1 = await publish('a.example');
    const watch = new RouteWatch(t.db, 3);
    const caller: Principal = {
      userId: 'u',
      username: 'router',
      role: 'operator',
      departmentId: null,
      departmentCode: null,
      tokenId: 't',
      tokenScope: 'read',
    };
    const gone = new AbortController();
    // Already newer: answered at once.
    assert.equal((await watch.next(caller, 0, 10_000, gone.signal))?.version, v1);
    const tableReads = watch.reads.table;
    const started = Date.now();
    const versionReads = watch.reads.version;
    const waiting = [1, 2, 3].map(() => watch.next(caller, v1, 20_000, gone.signal));
    await until('three routers waiting', () => watch.waiting === 3);
    await assert.rejects(watch.next(caller, v1, 20_000, gone.signal), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'GOVHOST_ROUTE_STREAM_BUSY');
      return true;
    });
    // Let the watcher tick a few times with nothing new.
    await until('a few watcher reads', () => watch.reads.version - versionReads >= 6, 10_000);
    const v2 = await publish('b.example');
    const answers = await Promise.all(waiting);
    const elapsed = Date.now() - started;
    for (const a of answers) assert.equal(a?.routes[0]?.hostname, 'b.example');
    assert.ok(answers.every((a) => a?.version === v2));
    // One read of the table for three waiters; version reads follow the clock (one per 200 ms,
    // plus the checks on arrival), not the number of waiters.
    assert.equal(watch.reads.table - tableReads, 1);
    const reads = watch.reads.version - versionReads;
    assert.ok(reads <= elapsed / 200 + 5, `${reads} version reads in ${elapsed} ms`);
    assert.equal(watch.waiting, 0);
    gone.abort();
  });

  it('a replica with its waiters full answers 429 with Retry-After; the waiter gets the next table', async () => {
    const v = await publish('c.example');
    const ask = (waitSec: number) =>
      t.request(operator, { method: 'GET', url: `/api/v1/runtime/routes?after=${v}&waitSec=${waitSec}` });
    // Two routers at once on a replica with one place (GOVHOST_ROUTE_STREAM_WAITERS=1 here):
    // whichever arrives second is refused at once, the other waits for the next table. Which one
    // wins the place is up to the scheduler, so the test takes the first to settle as the refusal.
    const both = [ask(20), ask(20)].map((p, i) => Promise.resolve(p).then((res) => ({ i, res })));
    const { i, res: refused } = await Promise.race(both);
    assert.equal(refused.statusCode, 429, refused.body);
    const other = both[1 - i] as (typeof both)[number];
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
    assert.equal(refused.json().code, 'GOVHOST_ROUTE_STREAM_BUSY');
    await publish('d.example');
    const { res: got } = await other;
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().routes[0].hostname, 'd.example');
    assert.equal(got.headers['cache-control'], 'no-store');
  });
});
