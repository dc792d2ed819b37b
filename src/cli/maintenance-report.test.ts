import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

// The CLI as people run it, one process per command, against the real API listening on loopback.
let t: TestApp;
let url: string;
let dept: string;
let operator: string;

function run(
  args: string[],
  token = operator,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(url, token, args);
}

const lastMonth = (() => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
})();

describe('govhost maintenance and govhost report sla', () => {
  before(async () => {
    t = await testApp();
    url = await t.listen();
    dept = await t.department('CLI');
    operator = (await t.user('operator')).token;
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        department: dept,
        slug: 'portal',
        nameEn: 'Portal, "main"',
        nameZh: '入口',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    await t.request(t.adminToken, {
      method: 'PATCH',
      url: `/api/v1/services/${dept}/portal`,
      payload: { lifecycle: 'active' },
    });
    // A month of history needs a service active before the month; the catalogue sets created_at
    // and the lifecycle history itself.
    const created = new Date(Date.parse(`${lastMonth}-01T00:00:00Z`) - 86_400_000);
    await sql`update services set created_at = ${created} where id = ${res.json().id}`.execute(t.db);
    await sql`update service_lifecycle set at = ${created} where service_id = ${res.json().id}`.execute(t.db);
  });
  after(() => t.close());

  let id = '';
  const from = `${new Date(Date.now() + 86_400_000).toISOString().slice(0, 16)}Z`;
  const to = `${new Date(Date.now() + 90_000_000).toISOString().slice(0, 16)}Z`;

  it('adds, lists and cancels a notice', async () => {
    const added = await run([
      '--json',
      'maintenance',
      'add',
      '--service',
      `${dept}/portal`,
      '--from',
      from,
      '--to',
      to,
      '--title',
      'Upgrade',
    ]);
    assert.equal(added.code, 0, added.stderr);
    id = JSON.parse(added.stdout).id;
    // Relative times, as the README writes them so that they work on the day it is read:
    // --from counts from now, --to from the start.
    const sent = Date.now();
    const platform = await run([
      '--json',
      'maintenance',
      'add',
      '--platform',
      '--from',
      '+1d',
      '--to',
      '+1h',
      '--title',
      'Network',
    ]);
    assert.equal(platform.code, 0, platform.stderr);
    const notice = JSON.parse(platform.stdout);
    assert.equal(notice.platformWide, true);
    const startsAt = Date.parse(notice.startsAt);
    assert.ok(startsAt >= sent + 86_400_000 && startsAt <= Date.now() + 86_400_000, notice.startsAt);
    assert.equal(Date.parse(notice.endsAt) - startsAt, 3_600_000);
    const list = await run(['maintenance', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id} +${dept}/portal .* upcoming +Upgrade`));
    assert.match(list.stdout, /platform .* upcoming +Network/);
    const cancel = await run(['maintenance', 'cancel', id]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(cancel.stdout, `Cancelled maintenance notice ${id} (Upgrade).\n`);
  });

  it('reports usage errors and refusals in one line', async () => {
    const viewer = (await t.user('dept-viewer', dept)).token;
    // Independent commands: run side by side, each process pays its own start-up.
    const [bad, neither, refused] = await Promise.all([
      run(['maintenance', 'add', '--platform', '--from', 'tomorrow', '--to', to, '--title', 'x']),
      run(['maintenance', 'add', '--from', from, '--to', to, '--title', 'x']),
      run(['maintenance', 'cancel', id], viewer),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^govhost: --from must be an ISO time with its zone/);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give --service DEPT\/slug or --platform/);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^govhost: role dept-viewer may not maintenance write \(GOVHOST_FORBIDDEN\)\n$/,
    );
  });

  it('prints the SLA report as a table, and as the same CSV the API exports', async () => {
    const tableOut = await run(['report', 'sla', '--month', lastMonth]);
    assert.equal(tableOut.code, 0, tableOut.stderr);
    assert.match(
      tableOut.stdout,
      /^SERVICE +TIER +ELIGIBLE MIN +DOWN MIN +MAINT MIN +AVAILABILITY +MET +OUTAGES +INCIDENTS\n/,
    );
    const minutes =
      (Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1) -
        Date.parse(`${lastMonth}-01T00:00:00Z`)) /
      60_000;
    assert.match(
      tableOut.stdout,
      new RegExp(`\n${dept}/portal +gold 99.95 % +${minutes} +0 +0 +100 % +yes +0 +0\n`),
    );
    assert.match(
      tableOut.stdout,
      /1 services, 1 met, 0 not met; overall 100 %, 0 min down, 0 min maintenance\n$/,
    );
    const csv = await run(['report', 'sla', '--month', lastMonth, '--csv', '--department', dept]);
    assert.equal(csv.code, 0, csv.stderr);
    const api = await t.request(operator, {
      method: 'GET',
      url: `/api/v1/reports/sla?month=${lastMonth}&department=${dept}&format=csv`,
    });
    assert.equal(csv.stdout, api.body);
    assert.match(csv.stdout, /"Portal, ""main"""/);
  });

  it("passes the API's precise error for a bad month", async () => {
    const r = await run(['report', 'sla', '--month', '2026-13']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^govhost: month 2026-13 does not exist: the month part must be 01 to 12 \(GOVHOST_VALIDATION\)\n$/,
    );
  });
});
