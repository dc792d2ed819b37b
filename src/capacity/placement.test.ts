import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FarmFree, farmsLowerBound, placeAll, placeSlots } from './placement.ts';

const farm = (id: string, memoryMb: number, cpu: number, usedMemoryMb = 0, usedCpu = 0): FarmFree => ({
  id,
  code: id,
  memoryMb,
  cpu,
  usedMemoryMb,
  usedCpu,
});

describe('placeSlots', () => {
  test('best fit: the fullest farm that still holds the slot', () => {
    const farms = [farm('a', 8192, 8, 1024, 1), farm('b', 8192, 8, 6144, 1), farm('c', 8192, 8, 7680, 1)];
    const r = placeSlots(farms, { instances: 1, memoryMb: 1024, cpu: 1, spread: 1 });
    // c has only 512 MB left; b is the fullest that fits.
    assert.deepEqual(r, { ok: true, farms: ['b'] });
    assert.equal(farms[1]?.usedMemoryMb, 7168);
    assert.equal(farms[0]?.usedMemoryMb, 1024);
  });

  test('a gold service with two or more instances lands on two farms at least', () => {
    const farms = [farm('a', 16384, 16), farm('b', 16384, 16, 8192, 0), farm('c', 16384, 16)];
    const r = placeSlots(farms, { instances: 3, memoryMb: 1024, cpu: 1, spread: 2 });
    assert.ok(r.ok);
    assert.ok(new Set(r.farms).size >= 2, `farms ${r.farms.join(',')}`);
    // Without spread best fit would pack all three onto the fullest farm.
    const packed = placeSlots([farm('a', 16384, 16), farm('b', 16384, 16, 8192, 0)], {
      instances: 3,
      memoryMb: 1024,
      cpu: 1,
      spread: 1,
    });
    assert.deepEqual(packed, { ok: true, farms: ['b', 'b', 'b'] });
  });

  test('a failed placement leaves every farm figure as it was', () => {
    const farms = [farm('a', 4096, 4, 1024, 1), farm('b', 4096, 4, 2048, 2)];
    const before = structuredClone(farms);
    const r = placeSlots(farms, { instances: 6, memoryMb: 1024, cpu: 1, spread: 1 });
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /instance 6 of 6/);
    assert.deepEqual(farms, before);
    const spread = placeSlots([farm('a', 4096, 4)], { instances: 2, memoryMb: 512, cpu: 0.5, spread: 2 });
    assert.equal(spread.ok, false);
    assert.match((spread as { reason: string }).reason, /spread over 2 farms/);
  });

  test('overcommitted capacity (as admission passes it) holds more than the raw farm', () => {
    // 8 vCPU at a CPU overcommit of 2 is offered as 16.
    const raw = [farm('a', 65536, 8)];
    assert.equal(placeSlots(raw, { instances: 12, memoryMb: 1024, cpu: 1, spread: 1 }).ok, false);
    const over = [farm('a', 65536, 8 * 2)];
    assert.equal(placeSlots(over, { instances: 12, memoryMb: 1024, cpu: 1, spread: 1 }).ok, true);
    assert.equal(over[0]?.usedCpu, 12);
  });
});

describe('placeAll', () => {
  test('best-fit decreasing reaches the lower bound on a packable workload and keeps spread', () => {
    const farms = Array.from({ length: 10 }, (_, i) => farm(`f${i}`, 8192, 64));
    // 4 GB + 2 GB + 2 GB fill a farm exactly; given in the worst order.
    const demands = [
      ...Array.from({ length: 4 }, (_, i) => ({
        key: `s${i}`,
        instances: 2,
        memoryMb: 2048,
        cpu: 1,
        spread: 1,
      })),
      ...Array.from({ length: 2 }, (_, i) => ({
        key: `b${i}`,
        instances: 2,
        memoryMb: 4096,
        cpu: 1,
        spread: 2,
      })),
    ];
    const r = placeAll(farms, demands);
    assert.equal(r.failed.length, 0);
    assert.equal(r.farmsUsed, farmsLowerBound({ memoryMb: 8192, cpu: 64 }, demands).farms);
    assert.equal(r.farmsUsed, 4);
    for (const key of ['b0', 'b1']) assert.equal(new Set(r.placed.get(key)).size, 2);
  });

  test('reports what does not fit and keeps placing the rest', () => {
    const farms = [farm('a', 4096, 4)];
    const r = placeAll(farms, [
      { key: 'big', instances: 1, memoryMb: 8192, cpu: 1, spread: 1 },
      { key: 'small', instances: 1, memoryMb: 1024, cpu: 1, spread: 1 },
    ]);
    assert.deepEqual(
      r.failed.map((f) => f.key),
      ['big'],
    );
    assert.deepEqual(r.placed.get('small'), ['a']);
    assert.equal(farms[0]?.usedMemoryMb, 1024);
  });

  test('10,000 services place in well under a few seconds', () => {
    const farms = Array.from({ length: 400 }, (_, i) => farm(`f${i}`, 512 * 1024, 128));
    const demands = Array.from({ length: 10_000 }, (_, i) => ({
      key: `s${i}`,
      instances: 2 + (i % 3),
      memoryMb: 1024 * (1 + (i % 8)),
      cpu: 1,
      spread: i % 4 === 0 ? 2 : 1,
    }));
    const t0 = performance.now();
    const r = placeAll(farms, demands);
    const ms = performance.now() - t0;
    assert.equal(r.failed.length, 0);
    assert.ok(ms < 5000, `took ${ms} ms`);
    const bound = farmsLowerBound({ memoryMb: 512 * 1024, cpu: 128 }, demands).farms;
    assert.ok(r.farmsUsed <= Math.ceil(bound * 1.05), `${r.farmsUsed} farms for a bound of ${bound}`);
  });
});
