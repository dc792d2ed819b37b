import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  demandIn,
  type ForecastFarm,
  forecast,
  inService,
  MAX_RECOMMENDED_FARMS,
  medianFarm,
  type PipelineItem,
} from './forecast.ts';
import { addMonths, monthBounds, monthIndex } from './month.ts';

const GB = 1024;

const farm = (code: string, over: Partial<ForecastFarm> = {}): ForecastFarm => ({
  code,
  state: 'active',
  vcpu: 64,
  memoryMb: 64 * GB,
  activeFrom: '2026-01-01',
  retiredOn: null,
  ...over,
});

const wave = (goLive: string, memoryMb: number, over: Partial<PipelineItem> = {}): PipelineItem => ({
  kind: 'migration-wave',
  departmentId: null,
  services: 1,
  instancesPerService: 1,
  memoryMbPerInstance: memoryMb,
  cpuPerInstance: 0.5,
  growthPctPerMonth: null,
  goLive,
  scenario: null,
  ...over,
});

describe('month arithmetic', () => {
  it('adds months across years and bounds a month in UTC', () => {
    assert.equal(addMonths('2026-12', 1), '2027-01');
    assert.equal(addMonths('2027-01', -13), '2025-12');
    assert.equal(monthIndex('2027-03') - monthIndex('2026-12'), 3);
    const b = monthBounds('2028-02');
    assert.equal(b.start.toISOString(), '2028-02-01T00:00:00.000Z');
    assert.equal(b.end.toISOString(), '2028-03-01T00:00:00.000Z');
  });
});

describe('expansion forecast (hand-computed)', () => {
  /*
   * Two active farms of 64 GB and 64 vCPU: capacity 128 GB. Today 40 GB is reserved (4 vCPU).
   * A migration wave of 20 GB (1 service × 1 instance, 0.5 vCPU) goes live every month from
   * 2027-01. Target 80 %: 0.8 × 128 = 102.4 GB.
   *
   *   month    memory demand   capacity   utilisation   over 102.4?
   *   2027-01   40+20 =  60     128        46.9 %        no
   *   2027-02         =  80     128        62.5 %        no
   *   2027-03         = 100     128        78.1 %        no
   *   2027-04         = 120     128        93.8 %        YES: memory runs out in 2027-04
   *   2027-05         = 140     128       109.4 %
   *   2027-06         = 160     128       125.0 %
   *
   * The reference farm is the median active farm: 64 GB. Farm 3 is needed for 2027-04, so it
   * is commissioned by 2027-03 and, with 3 months' lead time, ordered by 2026-12.
   * With 3 farms (192 GB, target 153.6 GB): 2027-05 140 is fine, 2027-06 160 is over, so farm 4
   * is needed for 2027-06: commissioned by 2027-05, ordered by 2027-02.
   * With 4 farms (256 GB, target 204.8): 2027-06 is 160/256 = 62.5 %.
   * CPU: 4 + 0.5 a month, at most 7 vCPU of 128: never over.
   */
  const input = {
    from: '2027-01',
    months: 6,
    target: 0.8,
    leadMonths: 3,
    reserved: [{ departmentId: 'd1', memoryMb: 40 * GB, cpu: 4 }],
    farms: [farm('F1'), farm('F2')],
    items: ['2027-01', '2027-02', '2027-03', '2027-04', '2027-05', '2027-06'].map((m) => wave(m, 20 * GB)),
    referenceFarm: { vcpu: 64, memoryMb: 64 * GB },
  };

  it('runs out of memory in 2027-04 and recommends farm 3 by 2027-03 (order 2026-12), farm 4 by 2027-05', () => {
    const f = forecast(input);
    assert.deepEqual(
      f.months.map((m) => m.memory.demand / GB),
      [60, 80, 100, 120, 140, 160],
    );
    assert.deepEqual(
      f.months.map((m) => m.memory.capacity / GB),
      [128, 128, 128, 128, 128, 128],
    );
    assert.equal(f.months[3]?.memory.utilisation, 120 / 128);
    assert.deepEqual(f.runsOut, { memory: '2027-04', cpu: null, storage: null });
    assert.deepEqual(
      f.recommendations.map((r) => [r.farm, r.resource, r.neededFor, r.commissionBy, r.orderBy, r.late]),
      [
        [1, 'memory', '2027-04', '2027-03', '2026-12', true],
        [2, 'memory', '2027-06', '2027-05', '2027-02', false],
      ],
    );
    // The first order is already due before the forecast starts: it says so on the first month.
    assert.ok(f.months[0]?.actions.includes('order new farm 1 now (was due 2026-12)'));
    assert.ok(f.months[1]?.actions.includes('order new farm 2'));
    assert.ok(f.months[2]?.actions.includes('commission new farm 1'));
    assert.ok(f.months[3]?.actions.includes('memory over 80 %'));
    assert.deepEqual(
      f.months.map((m) => m.withRecommended.farms),
      [2, 2, 3, 3, 4, 4],
    );
    assert.equal(f.months[5]?.withRecommended.memoryUtilisation, 160 / 256);
    assert.equal(f.months[5]?.cpu.demand, 4 + 6 * 0.5);
  });

  it('runs out of storage first when disks grow faster than memory, and buys farms for storage', () => {
    /*
     * The same farms and waves, now with storage: each farm has 100 GB of storage (200 GB), 100 GB
     * is reserved today and each wave's instance has a 30 GB disk. Target 80 %: 160 GB.
     *
     *   month    storage demand   over 160?   memory (as above)
     *   2027-01   100+30 = 130      no          60
     *   2027-02          = 160      no (equal)  80
     *   2027-03          = 190      YES         100
     *   2027-04          = 220                  120 (over 102.4 with the two farms)
     *   2027-05          = 250                  140
     *   2027-06          = 280                  160
     *
     * The reference farm brings 100 GB of storage and 64 GB of memory. Farm 1 for 2027-03 (in
     * service by 2027-02, ordered 2026-11: late): 300 GB, target 240; memory 192 GB, target
     * 153.6. 2027-04: 220 and 120 fit. 2027-05: 250 > 240, farm 2 (in service by 2027-04, ordered
     * 2027-01, the first month: not late): 400 GB, target 320; memory 256 GB. 2027-06: 280 / 400
     * = 70 % of storage, 160 / 256 = 62.5 % of memory. Memory alone still passes the target with
     * the farms in service in 2027-04, so that is when it runs out without advice.
     */
    const f = forecast({
      ...input,
      reserved: [{ departmentId: 'd1', memoryMb: 40 * GB, cpu: 4, storageMb: 100 * GB }],
      farms: [farm('F1', { storageMb: 100 * GB }), farm('F2', { storageMb: 100 * GB })],
      items: input.items.map((i) => ({ ...i, storageMbPerInstance: 30 * GB })),
      referenceFarm: { vcpu: 64, memoryMb: 64 * GB, storageMb: 100 * GB },
    });
    assert.deepEqual(
      f.months.map((m) => m.storage.demand / GB),
      [130, 160, 190, 220, 250, 280],
    );
    assert.deepEqual(f.runsOut, { cpu: null, memory: '2027-04', storage: '2027-03' });
    assert.deepEqual(
      f.recommendations.map((r) => [r.farm, r.resource, r.neededFor, r.commissionBy, r.orderBy, r.late]),
      [
        [1, 'storage', '2027-03', '2027-02', '2026-11', true],
        [2, 'storage', '2027-05', '2027-04', '2027-01', false],
      ],
    );
    assert.ok(f.months[2]?.actions.includes('storage over 80 %'));
    assert.deepEqual(
      f.months.map((m) => m.withRecommended.farms),
      [2, 3, 3, 4, 4, 4],
    );
    assert.equal(f.months[5]?.withRecommended.storageUtilisation, 280 / 400);
    assert.equal(f.months[5]?.withRecommended.memoryUtilisation, 160 / 256);
    // A farm without storage figures (and a reference farm without) counts none and buys none.
    const bare = forecast(input);
    assert.deepEqual(
      bare.months.map((m) => [m.storage.demand, m.storage.capacity, m.storage.utilisation]),
      Array.from({ length: 6 }, () => [0, 0, null]),
    );
  });

  it('counts a planned farm from its date, and so needs one farm fewer', () => {
    // F3 planned for 2027-04-15 is in service in April: 192 GB from April, so 120 and 140 fit;
    // 160 in June passes 153.6: one farm needed for 2027-06, ordered 2027-02.
    const f = forecast({
      ...input,
      farms: [...input.farms, farm('F3', { state: 'planned', activeFrom: '2027-04-15' })],
    });
    assert.deepEqual(
      f.months.map((m) => m.farmsActive),
      [2, 2, 2, 3, 3, 3],
    );
    assert.equal(f.runsOut.memory, '2027-06');
    assert.deepEqual(
      f.recommendations.map((r) => [r.neededFor, r.commissionBy, r.orderBy]),
      [['2027-06', '2027-05', '2027-02']],
    );
    assert.ok(f.months[3]?.actions.includes('F3 in service'));
  });

  it('drops a farm from the month it retires, and ignores a planned farm with no date', () => {
    const retiring = farm('F2', { retiredOn: '2027-02-10' });
    const undated = farm('F9', { state: 'planned', activeFrom: null });
    assert.equal(inService(retiring, '2027-01'), true);
    assert.equal(inService(retiring, '2027-02'), false);
    assert.equal(inService(undated, '2030-01'), false);
    assert.equal(inService(farm('L', { activeFrom: null }), '1999-01'), true);
    assert.equal(inService(farm('R', { state: 'retired', activeFrom: '2020-01-01' }), '2027-01'), false);
  });

  it('compounds growth on existing reservations of its department only', () => {
    // d1 has 100 GB, d2 50 GB. Growth of 10 % a month for d1 from 2027-02:
    //   2027-01: 100 + 50 = 150;  2027-02: 110 + 50 = 160;  2027-03: 121 + 50 = 171.
    // A platform-wide growth of 50 % from 2027-03 on top: 2027-03: 121×1.5 + 50×1.5 = 256.5.
    const reserved = [
      { departmentId: 'd1', memoryMb: 100, cpu: 10 },
      { departmentId: 'd2', memoryMb: 50, cpu: 5 },
    ];
    const growth = (departmentId: string | null, pct: number, goLive: string): PipelineItem => ({
      ...wave(goLive, 0),
      kind: 'growth',
      departmentId,
      services: 0,
      instancesPerService: 0,
      cpuPerInstance: 0,
      growthPctPerMonth: pct,
    });
    const items = [growth('d1', 10, '2027-02')];
    assert.equal(demandIn('2027-01', reserved, items).memory, 150);
    assert.equal(demandIn('2027-02', reserved, items).memory, 160);
    assert.ok(Math.abs(demandIn('2027-03', reserved, items).memory - 171) < 1e-9);
    const both = [...items, growth(null, 50, '2027-03')];
    assert.ok(Math.abs(demandIn('2027-03', reserved, both).memory - 256.5) < 1e-9);
    assert.ok(Math.abs(demandIn('2027-03', reserved, both).cpu - 25.65) < 1e-9);
  });

  it('recommends nothing without a farm to copy, and flags a resource with no capacity', () => {
    const f = forecast({ ...input, farms: [], referenceFarm: null });
    assert.equal(f.recommendations.length, 0);
    assert.equal(f.runsOut.memory, '2027-01');
    assert.equal(f.months[0]?.memory.utilisation, null);
  });

  it('takes the lower middle farm as the median', () => {
    const farms = [
      { code: 'a', vcpu: 8, memoryMb: 96 },
      { code: 'b', vcpu: 4, memoryMb: 32 },
      { code: 'c', vcpu: 16, memoryMb: 64 },
      { code: 'd', vcpu: 2, memoryMb: 128 },
    ];
    assert.equal(medianFarm(farms)?.code, 'c');
    assert.equal(medianFarm(farms.slice(0, 3))?.code, 'c');
    assert.equal(medianFarm([]), null);
  });
});

describe('forecast bounds', () => {
  it('stops recommending at MAX_RECOMMENDED_FARMS, however small the target or the farm', () => {
    // A 1 MB reference farm against 2 TB of demand at a 5e-324 target would need ~1e330 farms:
    // the loop ends at the cap and says so.
    const f = forecast({
      from: '2027-01',
      months: 3,
      target: 5e-324,
      leadMonths: 0,
      reserved: [{ departmentId: 'd1', memoryMb: 2048 * GB, cpu: 4 }],
      farms: [farm('F1')],
      items: [],
      referenceFarm: { vcpu: 1, memoryMb: 1 },
    });
    assert.equal(f.recommendations.length, MAX_RECOMMENDED_FARMS);
    assert.ok(f.months[0]?.actions.some((a) => a.startsWith(`more than ${MAX_RECOMMENDED_FARMS} farms`)));
  });
});
