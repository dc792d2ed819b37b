// The monitoring engine end to end: a real platform (short probe interval), real instances behind
// the real router. Traffic shows in the metrics API and /metrics; scaling a service to zero makes
// it go down and opens an outage, scaling it back closes it; departments see only their own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/server/store.ts';
import {
  BIN,
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { until as waitFor } from '../../src/test-support/until.ts';
import { type Api, apiClient, closeAgent, deployDir, viaRouter, waitDeployment } from './runtime-helpers.ts';

const until = <T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms = 20_000,
) => waitFor(what, check, ms);

const NODE_APP = fileURLToPath(new URL('../../examples/apps/node-hello/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'govhost-monitoring-e2e-'));
const dataDir = join(work, 'data');
const env = cleanEnv({
  GOVHOST_DATA_DIR: dataDir,
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
  GOVHOST_LOG_LEVEL: 'info',
  GOVHOST_PROBE_INTERVAL_MS: '300',
  GOVHOST_PROBE_TIMEOUT_MS: '1000',
});

let server: GovhostProcess | null = null;
let url: string;
let routerUrl: string;
let admin: Api;
let viewer: Api;
let viewerToken: string;
let adminToken: string;

async function scrape(token: string) {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('monitoring engine', () => {
  before(async () => {
    const s = await startServer(env);
    server = s.proc;
    url = s.url;
    routerUrl = s.routerUrl as string;
    adminToken = s.token as string;
    admin = apiClient(url, adminToken);
    for (const code of ['MON', 'OTH']) {
      assert.equal((await admin('POST', '/departments', { code, nameEn: code, nameZh: code })).status, 201);
    }
    for (const [dept, slug] of [
      ['MON', 'web'],
      ['OTH', 'other'],
    ]) {
      const res = await admin('POST', '/services', {
        department: dept,
        slug,
        nameEn: slug,
        nameZh: slug,
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      });
      assert.equal(res.status, 201, JSON.stringify(res.json));
    }
    const u = await admin('POST', '/users', {
      username: 'mon.viewer',
      displayName: 'Viewer',
      role: 'dept-viewer',
      department: 'MON',
    });
    assert.equal(u.status, 201, JSON.stringify(u.json));
    const t = await admin('POST', '/tokens', { name: 'prom', user: 'mon.viewer', scope: 'read' });
    assert.equal(t.status, 201, JSON.stringify(t.json));
    viewerToken = t.json.secret;
    viewer = apiClient(url, viewerToken);
    const [a, b] = await Promise.all([
      deployDir(url, admin, s.token as string, 'MON/web', NODE_APP),
      deployDir(url, admin, s.token as string, 'OTH/other', NODE_APP),
    ]);
    assert.equal(a.deployment.state, 'succeeded', JSON.stringify(a.deployment));
    assert.equal(b.deployment.state, 'succeeded', JSON.stringify(b.deployment));
  });

  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
  });

  it('counts traffic, latency, probes and instance figures, live', async () => {
    for (let i = 0; i < 25; i++) assert.equal((await viaRouter(routerUrl, 'web.mon.localhost')).status, 200);
    const m = await until('25 requests in the metrics', async () => {
      const res = await viewer('GET', '/services/MON/web/metrics');
      const total = res.json.points.reduce(
        (a: number, p: { requests: { total: number } }) => a + p.requests.total,
        0,
      );
      return total >= 25 && res.json.current?.state === 'up' && res.json.current.instances[0]?.memoryBytes
        ? res.json
        : null;
    });
    assert.equal(m.service, 'MON/web');
    assert.equal(m.step, 60);
    assert.ok(m.points.length >= 60 && m.points.length <= 61);
    const last = m.points.filter((p: { requests: { total: number } }) => p.requests.total > 0).at(-1);
    assert.ok(last.latencyMs.p50 > 0 && last.latencyMs.p99 >= last.latencyMs.p50);
    assert.ok(last.probes.total > 0);
    assert.equal(m.current.tier, 'gold');
    assert.ok(m.current.traffic.requests >= 25);
    assert.ok(m.current.instances[0].memoryLimitBytes === 128 * 1024 * 1024);
    assert.ok(m.instances.length >= 1 && m.instances[0].points.length >= 1);

    // The CLI: a table for people, the API's answer with --json.
    const cli = (args: string[]) =>
      execFileSync(process.execPath, [BIN, ...args], {
        env: cleanEnv({ GOVHOST_URL: url, GOVHOST_TOKEN: viewerToken }),
        encoding: 'utf8',
      });
    const text = cli(['metrics', 'MON/web', '--since', '10m']);
    assert.match(text, /^MON\/web: up\nTIME +REQ\/MIN +5XX % +P95 MS +UP % +CPU % +MEMORY$/m);
    // Ten minutes cut to whole minutes: 10, or 11 when `now` is not on a minute.
    assert.ok([12, 13].includes(text.trim().split('\n').length), text);
    const json = JSON.parse(cli(['metrics', 'MON/web', '--since', '2h', '--step', '600', '--json']));
    assert.equal(json.step, 600);
    assert.ok([12, 13].includes(json.points.length));
  });

  it('refuses bad ranges precisely and hides other departments', async () => {
    const bad = await viewer(
      'GET',
      '/services/MON/web/metrics?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'GOVHOST_VALIDATION');
    assert.equal((await viewer('GET', '/services/MON/web/metrics?step=45')).status, 400);
    const other = await viewer('GET', '/services/OTH/other/metrics');
    assert.equal(other.status, 404);
    assert.equal((await admin('GET', '/services/OTH/other/metrics')).status, 200);
  });

  it('/metrics: own department only, valid for promtool', async () => {
    await until('a scrape with the request counter', async () =>
      /govhost_http_requests_total\{department="MON",service="web",class="2xx"\} ([1-9]\d*)/.test(
        (await scrape(viewerToken)).text,
      ),
    );
    const mine = await scrape(viewerToken);
    assert.equal(mine.status, 200);
    assert.match(mine.type ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(mine.text, /govhost_probe_up\{department="MON",service="web"\} 1/);
    assert.match(
      mine.text,
      /govhost_instance_memory_bytes\{department="MON",service="web",service_instance="[^"]+"\} \d+/,
    );
    assert.doesNotMatch(mine.text, /OTH|other/);
    const all = await scrape(adminToken);
    assert.match(all.text, /department="OTH",service="other"/);
    execFileSync('promtool', ['check', 'metrics'], { input: mine.text });
    execFileSync('promtool', ['check', 'metrics'], { input: all.text });
    assert.equal((await fetch(`${url}/metrics`)).status, 401);
  });

  it('a service scaled to zero goes down (an outage opens) and comes back (it closes)', async () => {
    const t0 = Date.now();
    const zero = await admin('POST', '/services/MON/web/scale', { instances: 0 });
    assert.equal(zero.status, 202, JSON.stringify(zero.json));
    // Deadlines are generous: the instance drains, or a new one starts and passes its health
    // check, which takes seconds when the machine is busy with the rest of the suite. How fast
    // an outage is detected is measured by bench/detection.mjs, not here. A check that throws
    // is retried, and its last message is what a timeout reports.
    const down = await until(
      'the service down',
      async () => {
        const c = (await viewer('GET', '/services/MON/web/metrics')).json.current;
        if (c?.state !== 'down') throw new Error(`current: ${JSON.stringify(c)}`);
        return c;
      },
      60_000,
    );
    assert.ok(down.downSince >= t0 - 1000, `down since its first failed probe: ${JSON.stringify(down)}`);
    assert.match(down.lastProbe.error, /HTTP 50\d/);
    // The service is down as soon as its route is gone, while its instance may still be
    // stopping; a second change of size waits for the first to finish (or it is refused, 409).
    assert.equal((await waitDeployment(admin, 'MON/web', zero.json.id)).state, 'succeeded');
    const up = await admin('POST', '/services/MON/web/scale', { instances: 1 });
    assert.equal(up.status, 202, JSON.stringify(up.json));
    await until(
      'the service up again',
      async () => {
        const c = (await viewer('GET', '/services/MON/web/metrics')).json.current;
        if (c?.state !== 'up') throw new Error(`current: ${JSON.stringify(c)}`);
        return true;
      },
      60_000,
    );
  });

  it('after a clean stop, the outage is closed and the partial minute is stored', async () => {
    const proc = server as GovhostProcess;
    server = null;
    const end = await stopProcess(proc);
    assert.equal(end.code, 0, `${JSON.stringify(end)}\n${proc.err().slice(-4000)}`);
    const store = await openStore({ databaseUrl: null, dataDir });
    try {
      const svc = await store.db
        .selectFrom('services')
        .innerJoin('departments', 'departments.id', 'services.department_id')
        .select('services.id')
        .where('departments.code', '=', 'MON')
        .executeTakeFirstOrThrow();
      const outages = await store.db
        .selectFrom('service_outages')
        .selectAll()
        .where('service_id', '=', svc.id)
        .execute();
      assert.equal(outages.length, 1);
      const o = outages[0]!;
      assert.ok(o.ended_at && o.ended_at.getTime() > o.started_at.getTime());
      assert.match(o.cause, /HTTP 50\d/);
      const minutes = await store.db
        .selectFrom('service_minutes')
        .selectAll()
        .where('service_id', '=', svc.id)
        .execute();
      const requests = minutes.reduce((a, m) => a + Number(m.req_2xx), 0);
      assert.ok(requests >= 25, `stored 2xx: ${requests}`);
      assert.ok(minutes.some((m) => m.probes_failed > 0));
      const inst = await store.db
        .selectFrom('instance_minutes')
        .selectAll()
        .where('service_id', '=', svc.id)
        .execute();
      assert.ok(inst.length >= 1 && inst.some((i) => Number(i.memory_max_bytes) > 0));
    } finally {
      await store.close();
    }
  });
});
