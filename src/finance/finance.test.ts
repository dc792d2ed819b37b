// Finance through the API on a real store: the paper's annex for the central roles, a finance
// user's copy edited with a contingency rate, the paper read-only, bad models named precisely, no
// business case for a department's roles; the savings of sharing from the planned pipeline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import type { CostModel } from './cost-model.ts';

describe('finance', () => {
  let t: TestApp;
  let finance: string;
  let operator: string;
  let deptAdmin: string;
  const call = async (token: string, method: string, url: string, payload?: unknown) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, json: res.body ? res.json() : null, body: res.body };
  };

  before(async () => {
    t = await testApp();
    finance = (await t.user('finance')).token;
    operator = (await t.user('operator')).token;
    deptAdmin = (await t.user('dept-admin', await t.department('FIN'))).token;
  });
  after(() => t.close());

  it("serves the paper's annex to the central roles, not to a department", async () => {
    const bc = await call(operator, 'GET', '/finance/business-case?scenario=paper');
    assert.equal(bc.status, 200, bc.body);
    assert.deepEqual(bc.json.totals, { cost: 385_300, savings: 484_400, net: 99_100 });
    assert.equal(bc.json.annex.at(-1).byYear.at(-1), 99_100);
    const dept = await call(deptAdmin, 'GET', '/finance/business-case');
    assert.equal(dept.status, 403, dept.body);
    assert.equal(dept.json.code, 'GOVHOST_FORBIDDEN');
    const missing = await call(finance, 'GET', '/finance/business-case?scenario=nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 'GOVHOST_FINANCE_SCENARIO_NOT_FOUND');
  });

  it('lets finance copy the paper and edit the copy; the paper stays as printed', async () => {
    assert.equal((await call(operator, 'POST', '/finance/scenarios', { name: 'ops' })).status, 403);
    const copy = await call(finance, 'POST', '/finance/scenarios', { name: 'rate-10' });
    assert.equal(copy.status, 201, copy.body);
    assert.equal(copy.json.basedOn, 'paper');
    assert.equal(
      (await call(finance, 'POST', '/finance/scenarios', { name: 'rate-10' })).json.code,
      'GOVHOST_FINANCE_SCENARIO_EXISTS',
    );

    const model: CostModel = copy.json.model;
    model.nonRecurring.contingency = { rate: 0.1 };
    const edited = await call(finance, 'PUT', '/finance/scenarios/rate-10', { model });
    assert.equal(edited.status, 200, edited.body);
    const bc = await call(finance, 'GET', '/finance/business-case?scenario=rate-10');
    // 10% of (a) to (c) is 12,270 where the paper printed 12,300.
    assert.equal(bc.json.totals.cost, 385_300 - 30);
    assert.equal(
      bc.json.detail.find((r: { key: string }) => r.key === 'nonRecurring.contingency').total,
      12_270,
    );

    const paper = await call(finance, 'PUT', '/finance/scenarios/paper', { model });
    assert.equal(paper.status, 409);
    assert.equal(paper.json.code, 'GOVHOST_FINANCE_SCENARIO_READ_ONLY');
    const list = await call(operator, 'GET', '/finance/scenarios');
    assert.deepEqual(
      list.json.map((s: { name: string; builtIn: boolean }) => [s.name, s.builtIn]),
      [
        ['paper', true],
        ['rate-10', false],
      ],
    );
    assert.equal((await call(finance, 'DELETE', '/finance/scenarios/rate-10')).status, 204);
    assert.equal((await call(finance, 'GET', '/finance/scenarios/rate-10')).status, 404);
  });

  it('names what is wrong in a model: a short line, years out of order, a negative amount', async () => {
    await call(finance, 'POST', '/finance/scenarios', { name: 'bad' });
    const { json } = await call(finance, 'GET', '/finance/scenarios/bad');
    const short = structuredClone(json.model) as CostModel;
    short.recurring.staff = short.recurring.staff.slice(0, 3);
    const r1 = await call(finance, 'PUT', '/finance/scenarios/bad', { model: short });
    assert.equal(r1.status, 422);
    assert.match(r1.json.detail, /recurring\.staff has 3 amounts for 9 years/);
    const years = structuredClone(json.model) as CostModel;
    years.years[3] = '2020-21';
    const r2 = await call(finance, 'PUT', '/finance/scenarios/bad', { model: years });
    assert.match(r2.json.detail, /years\[3\] 2020-21 does not follow 2013-14/);
    const negative = structuredClone(json.model) as CostModel;
    negative.savings.oneOffAvoidable[0] = -1;
    const r3 = await call(finance, 'PUT', '/finance/scenarios/bad', { model: negative });
    assert.equal(r3.status, 400, r3.body);
    assert.equal((await call(finance, 'POST', '/finance/scenarios', { name: 'Bad Name' })).status, 400);
  });

  it('derives the savings of sharing from the pipeline: two small departments share a farm', async () => {
    const farm = await call(t.adminToken, 'POST', '/farms', {
      code: 'SH1',
      name: 'Farm SH1',
      vcpu: 16,
      memoryMb: 65_536,
      storageGb: 100,
      idleWatts: 100,
      maxWatts: 300,
      costHkd: 3_300_000,
      phase: 1,
      state: 'active',
      activeFrom: '2026-01-01',
    });
    assert.equal(farm.status, 201, farm.body);
    // Each department plans one bronze service of 2 × 10 GB, 1 CPU: alone one farm each (80 % of
    // 64 GB is 52.4 GB); pooled, the 40 GB fit one farm. A gold one of the same size needs 2 farms.
    for (const [code, tier] of [
      ['SHA', 'bronze'],
      ['SHB', 'bronze'],
      ['SHC', 'gold'],
    ]) {
      const dept = await t.department(code);
      const line = await call(t.adminToken, 'POST', '/capacity/demand', {
        kind: 'hosting-request',
        department: dept,
        services: 1,
        instancesPerService: 2,
        memoryMbPerInstance: 10_240,
        cpuPerInstance: 1,
        goLive: '2027-01',
        slaTier: tier,
      });
      assert.equal(line.status, 201, line.body);
    }
    const r = await call(finance, 'GET', '/finance/sharing');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(
      r.json.departments.map((d: { plannedServices: number; farmsAlone: number }) => [
        d.plannedServices,
        d.farmsAlone,
      ]),
      [
        [1, 1],
        [1, 1],
        [1, 2],
      ],
    );
    // Pooled: 60 GB pass 52.4 GB, and the gold service needs two farms anyway: 2.
    assert.deepEqual([r.json.farmsAlone, r.json.farmsShared, r.json.farmsAvoided], [4, 2, 2]);
    assert.equal(r.json.costAvoidedHkd, 6_600_000);
    assert.deepEqual(r.json.paper, { farmsAvoided: 78, farmCostHkd: 3_300_000, savingsHkd: 260_000_000 });
    const sharing = await call(operator, 'GET', '/capacity/sharing');
    assert.equal(sharing.json.standalone.farmsAvoided, 2);
    assert.equal((await call(deptAdmin, 'GET', '/finance/sharing')).status, 403);
  });

  it('adopts a proposal from a day: memory and CPU together, or neither', async () => {
    // On SH1 alone (16 CPU, 64 GB, no overcommit) at 50 %: 2015-16's HK$36.1M, half each, over
    // 8,784 h: memory 1,805,000,000 / (64 × 8,784 × 0.5) = 6,421.476548 cents a GB-hour, CPU
    // 1,805,000,000 / (16 × 8,784 × 0.5) = 25,685.906193 cents an hour.
    const q = 'year=2015-16&utilisation=0.5';
    const p = await call(operator, 'GET', `/finance/rates/proposal?${q}`);
    assert.equal(p.status, 200, p.body);
    assert.deepEqual(
      p.json.rates.map((r: { centsPerUnit: number }) => r.centsPerUnit),
      [6_421.476548, 25_685.906193],
    );
    assert.equal((await call(deptAdmin, 'GET', `/finance/rates/proposal?${q}`)).status, 403);
    const body = { year: '2015-16', utilisation: 0.5, validFrom: '2099-04-01' };
    assert.equal((await call(operator, 'POST', '/finance/rates/proposal/adopt', body)).status, 403);
    const past = await call(finance, 'POST', '/finance/rates/proposal/adopt', {
      ...body,
      validFrom: '2020-04-01',
    });
    assert.equal(past.status, 422, past.body);
    const notADay = await call(finance, 'POST', '/finance/rates/proposal/adopt', {
      ...body,
      validFrom: '2099-02-30',
    });
    assert.equal(notADay.status, 422, notADay.body);
    assert.match(notADay.json.detail, /validFrom 2099-02-30 is not a day/);
    // CPU already has a rate from that day: refused, and memory is not added either.
    const cpu = await call(finance, 'POST', '/finance/rates', {
      resource: 'cpu-hour',
      validFrom: '2099-04-01',
      centsPerUnit: 1,
    });
    assert.equal(cpu.status, 201, cpu.body);
    const clash = await call(finance, 'POST', '/finance/rates/proposal/adopt', body);
    assert.equal(clash.status, 422, clash.body);
    assert.match(clash.json.detail, /cpu-hour already has a rate from 2099-04-01/);
    const card = await call(finance, 'GET', '/finance/rates');
    assert.equal(card.json.filter((r: { resource: string }) => r.resource === 'memory-gb-hour').length, 0);
    const adopted = await call(finance, 'POST', '/finance/rates/proposal/adopt', {
      ...body,
      validFrom: '2099-05-01',
    });
    assert.equal(adopted.status, 201, adopted.body);
    assert.deepEqual(adopted.json.proposal.rates, p.json.rates);
    assert.deepEqual(
      adopted.json.rates
        .filter((r: { validFrom: string }) => r.validFrom === '2099-05-01')
        .map((r: { resource: string; centsPerUnit: number; note: string }) => [
          r.resource,
          r.centsPerUnit,
          r.note,
        ]),
      [
        ['cpu-hour', 25_685.906193, 'cost recovery: paper 2015-16 at 50 % utilisation, 50 % on memory'],
        ['memory-gb-hour', 6_421.476548, 'cost recovery: paper 2015-16 at 50 % utilisation, 50 % on memory'],
      ],
    );
  });
});
