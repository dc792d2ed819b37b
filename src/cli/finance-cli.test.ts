// test-seconds: 40
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

// `govhost finance` as people run it, one process per command, against the real API on loopback.
describe('govhost finance', () => {
  let t: TestApp;
  let url: string;
  let finance: string;
  let viewer: string;
  let dept: string;
  const ok = async (args: string[], token = finance) => {
    const r = await runCli(url, token, args);
    assert.equal(r.code, 0, `govhost ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    t = await testApp();
    url = await t.listen();
    finance = (await t.user('finance')).token;
    dept = await t.department('FCL');
    viewer = (await t.user('dept-viewer', dept)).token;
  });
  after(() => t.close());

  it("prints the paper's annex as the paper does, and as CSV", async () => {
    const text = await ok(['finance', 'business-case', '--scenario', 'paper']);
    const line = (label: string) => text.split('\n').find((l) => l.trimStart().startsWith(label)) ?? '';
    assert.match(
      line('Total cost'),
      /40,000 +66,600 +52,600 +45,600 +36,100 +36,100 +36,100 +36,100 +36,100 +385,300$/,
    );
    assert.match(line('Net savings'), /25,000 +8,800 +27,000 +38,300 +- +- +- +- +- +99,100$/);
    assert.match(line('Cumulative net savings'), /25,000 +33,800 +60,800 +99,100( +99,100){5}$/);
    assert.match(text, /total cost 385,300, total savings 484,400, net savings 99,100/);

    const csv = (await ok(['finance', 'business-case', '--csv'])).split('\r\n');
    assert.equal(
      csv[10],
      'savings.total,Total savings,65000,75400,79600,83900,36100,36100,36100,36100,36100,484400',
    );
    const json = JSON.parse(await ok(['--json', 'finance', 'business-case']));
    assert.equal(json.totals.net, 99_100);
  });

  it('copies a scenario and says plainly what a department may not see', async () => {
    assert.match(await ok(['finance', 'scenarios', 'copy', 'draft']), /based on: +paper/);
    assert.match(await ok(['finance', 'scenarios', 'list']), /draft +no +paper/);
    const denied = await runCli(url, viewer, ['finance', 'business-case']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /business cases are the central team's/);
    // Rates and statements: a department's viewer reads its own (nothing reserved yet).
    assert.match(
      await ok(['finance', 'rates', 'add', 'staging-minute', '--from', '2099-01-01', '--cents', '1.5']),
      /staging-minute at 1.5 cents from 2099-01-01/,
    );
    assert.match(await ok(['finance', 'rates']), /staging-minute +2099-01-01 +1.5/);
    const csv = await ok(
      ['finance', 'statement', '--department', dept, '--month', '2026-11', '--csv'],
      viewer,
    );
    assert.equal(
      csv,
      `department,month,service,resource,rate_from,cents_per_unit,quantity,amount_cents\r\n${dept},2026-11,total,,,,,0\r\n`,
    );
    assert.match(
      await ok(['finance', 'expected', '--department', dept, '--year', '2027-28'], viewer),
      new RegExp(`${dept} 2027-28: HK\\$0.00 expected`),
    );
    assert.match(
      await ok(['finance', 'close', '2026-10']),
      /closed 2026-10: 0 department statements, HK\$0.00 in all/,
    );
    // Budgets: finance sets one; the department's viewer reads it, nothing spent yet.
    assert.match(
      await ok(['finance', 'budgets', 'set', '--department', dept, '--period', 'month', '--cents', '50000']),
      new RegExp(`${dept} monthly budget HK\\$500.00, alerts at 80, 100 %; spent HK\\$0.00`),
    );
    assert.match(
      await ok(['finance', 'budgets'], viewer),
      new RegExp(`${dept} +month \\d{4}-\\d{2} +HK\\$500.00 +HK\\$0.00 \\(0 %\\) +80 %, 100 %`),
    );
    const badPeriod = await runCli(url, finance, [
      'finance',
      'budgets',
      'set',
      '--department',
      dept,
      '--period',
      'week',
      '--cents',
      '1',
    ]);
    assert.equal(badPeriod.code, 2);
    assert.match(badPeriod.stderr, /--period must be month or year, not week/);
    // No farm on this store: no capacity to recover the cost from, said plainly.
    const propose = await runCli(url, finance, ['finance', 'rates', 'propose', '--year', '2015-16']);
    assert.equal(propose.code, 1);
    assert.match(propose.stderr, /no active farm: the capacity to recover the cost from is nil/);
    // No farm on this store: the comparison says what it needs rather than a number.
    assert.match(await ok(['finance', 'sharing']), /no active farm to size the comparison on/);
    const missing = await runCli(url, finance, ['finance', 'scenarios', 'set', 'draft', '/nonexistent.json']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the cost model \/nonexistent.json/);
    // With a farm (16 CPU, 64 GB), the proposal is adopted by the API in one step, basis noted.
    const farm = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/farms',
      payload: {
        code: 'FC1',
        name: 'Farm FC1',
        vcpu: 16,
        memoryMb: 65_536,
        storageGb: 100,
        idleWatts: 100,
        maxWatts: 300,
        costHkd: 3_300_000,
        phase: 1,
        state: 'active',
        activeFrom: '2026-01-01',
      },
    });
    assert.equal(farm.statusCode, 201, farm.body);
    const adopted = await ok([
      'finance',
      'rates',
      'propose',
      '--year',
      '2015-16',
      '--utilisation',
      '0.5',
      '--adopt-from',
      '2099-04-01',
    ]);
    assert.match(adopted, /memory-gb-hour +6421.476548/);
    assert.match(adopted, /adopted from 2099-04-01/);
    const card = await t.request(finance, { method: 'GET', url: '/api/v1/finance/rates' });
    assert.deepEqual(
      card
        .json()
        .filter((r: { validFrom: string }) => r.validFrom === '2099-04-01')
        .map((r: { resource: string }) => r.resource),
      ['cpu-hour', 'memory-gb-hour'],
    );
  });
});
