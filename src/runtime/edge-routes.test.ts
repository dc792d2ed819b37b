// Certificates and HTTPS settings on their way from the edge's store to routers (decision 031):
// the table the runtime stores keeps every key sealed; a table handed to a router (the admin push,
// the route stream's answer) has it opened; a change at the edge publishes the table again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { opensslMissing, type TestPki, testPki } from '../edge/certificates.fixtures.ts';
import { loadSecretBox } from '../platform/secrets.ts';
import { silentLog } from '../router/log.ts';
import type { RouteTable } from '../router/route-table.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { until } from '../test-support/until.ts';
import { liveState } from './live-state.repository.ts';
import { LiveStatePublisher, publishedTable, storeVersioned, withOpenKeys } from './live-state.ts';
import type { ReleaseDriver } from './release-driver.ts';
import { RouteSync, type Serving } from './route-sync.ts';

const skip = await opensslMissing();

describe('certificates in the route table', { skip: skip ?? false }, () => {
  let t: TestApp;
  let pki: TestPki;
  let operator: string;
  let reader: string;
  let dept: string;
  let sync: RouteSync;
  let publisher: LiveStatePublisher;
  /** Every table handed to the router, as it received it. */
  const handed: RouteTable[] = [];
  before(async () => {
    [t, pki] = await Promise.all([testApp(), testPki()]);
    operator = (await t.user('operator')).token;
    reader = (await t.user('operator', undefined, 'read')).token;
    dept = await t.department('EDG');
    const created = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        department: dept,
        slug: 'site',
        nameEn: 'Site',
        nameZh: '網站',
        origin: 'new',
        channels: ['web'],
        slaTier: 'silver',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const serving = new Map<string, Serving>([
      [
        created.json().id,
        {
          hostname: `site.${dept.toLowerCase()}.localhost`,
          key: `${dept}/site`,
          releaseId: 'r1',
          kind: 'static',
          staticRoot: '/srv/site',
          healthPath: '/',
          draining: new Set(),
        },
      ],
    ]);
    // The key the API seals with (the data folder's secret.key), as the runtime loads it.
    const box = loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined);
    // The runtime's own wiring (runtime.start.ts): pushes carry store versions and opened keys,
    // and each push has the live state published with the keys sealed.
    const router = storeVersioned(
      t.db,
      {
        putRoutesHeld: async (table) => {
          handed.push(table);
          return null;
        },
        inflight: async () => ({}),
      },
      () => publisher.changed(),
      (table) => withOpenKeys(table, box),
    );
    // Static routes only: the driver, which lists a release's instances, is never asked.
    sync = new RouteSync(serving, {} as ReleaseDriver, router, t.app.log);
    sync.enable();
    publisher = new LiveStatePublisher({
      db: t.db,
      snapshot: () => ({ instances: [], services: [], state: {}, ...publishedTable(sync.routeTable()) }),
      fence: async () => {},
      log: silentLog,
    });
    publisher.start();
    t.deps.onEdgeChange = async () => void (await sync.refreshEdge(t.db));
  });
  after(async () => {
    await publisher?.stop();
    await t?.close();
    await pki?.close();
  });

  const storedRow = async () => {
    const row = await t.db
      .selectFrom('runtime_state')
      .select('value')
      .where('name', '=', 'routes')
      .executeTakeFirst();
    return JSON.stringify(row?.value ?? null);
  };
  const stream = async (after: number) => {
    const res = await t.request(reader, {
      method: 'GET',
      url: `/api/v1/runtime/routes?after=${after}&waitSec=0`,
    });
    assert.ok([200, 204].includes(res.statusCode), res.body);
    return res.statusCode === 200 ? (res.json() as RouteTable) : null;
  };

  it('an upload reaches the router with its key opened; the stored table holds it sealed', async () => {
    const leaf = await pki.leaf([`*.${dept.toLowerCase()}.localhost`]);
    const res = await t.request(operator, {
      method: 'POST',
      url: '/api/v1/certificates',
      payload: { chain: leaf.cert + pki.intermediate.cert, key: leaf.key },
    });
    assert.equal(res.statusCode, 201, res.body);
    const id = res.json().id as string;
    const pushed = handed.at(-1);
    assert.equal(pushed?.certificates?.[0]?.id, id);
    assert.match(pushed?.certificates?.[0]?.key ?? '', /-----BEGIN PRIVATE KEY-----/);
    assert.match(pushed?.certificates?.[0]?.chain ?? '', /BEGIN CERTIFICATE[\s\S]*BEGIN CERTIFICATE/);
    // Published for routers following the control plane: sealed in the row...
    const row = await until('the table with the certificate stored', async () => {
      const text = await storedRow();
      return text.includes(id) ? text : null;
    });
    assert.doesNotMatch(row, /PRIVATE KEY/);
    assert.ok(!row.includes(leaf.key.split('\n')[1] as string), 'no line of the clear key');
    const stored = (await liveState(t.db, 'routes')) as RouteTable;
    assert.match(stored.certificates?.[0]?.key ?? '', /^v1:/);
    // ...and opened in the route stream's answer.
    const answer = await stream(0);
    assert.equal(answer?.version, stored.version);
    assert.equal(answer?.certificates?.[0]?.key.replace(/\r/g, ''), pushed?.certificates?.[0]?.key);
  });

  it("a service's HTTPS settings appear on its route only when off", async () => {
    assert.equal(handed.at(-1)?.routes[0]?.httpsRedirect, undefined);
    const res = await t.request(t.adminToken, {
      method: 'PATCH',
      url: `/api/v1/services/${dept}/site/https`,
      payload: { hsts: false },
    });
    assert.equal(res.statusCode, 200, res.body);
    const route = handed.at(-1)?.routes[0];
    assert.equal(route?.hsts, false);
    assert.equal('httpsRedirect' in (route ?? {}), false);
  });

  it('removing the certificate publishes a table without it', async () => {
    // The previous test's publication may still be on its way to the store: start from a stored
    // table that has caught up, or that publication would pass for the one this test waits for.
    const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
    const before = await until('the stored table caught up with the routes', async () => {
      const table = (await liveState(t.db, 'routes')) as RouteTable;
      return isDeepStrictEqual(plain(table.routes), plain(sync.routeTable().routes)) ? table : null;
    });
    const id = before.certificates?.[0]?.id;
    const pushes = handed.length;
    const res = await t.request(operator, { method: 'DELETE', url: `/api/v1/certificates/${id}` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(handed.length, pushes + 1);
    assert.equal(handed.at(-1)?.certificates, undefined);
    const after = await until('a newer table stored', async () => {
      const table = (await liveState(t.db, 'routes')) as RouteTable;
      return table.version > before.version ? table : null;
    });
    assert.equal(after.certificates, undefined);
    const answer = await stream(before.version);
    assert.equal(answer?.version, after.version);
    assert.equal(answer?.certificates, undefined);
    // Nothing changed at the edge: a refresh pushes nothing.
    assert.equal(await sync.refreshEdge(t.db), false);
    assert.equal(handed.length, pushes + 1);
  });
});
