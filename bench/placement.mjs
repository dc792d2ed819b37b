#!/usr/bin/env node
// How tightly and how fast the planner packs whole workloads onto farms of one size.
// Usage: node --import ./bin/ts-loader.mjs bench/placement.mjs   (about 10 s)
//
// Runs the platform's own placeAll (best-fit decreasing with the memory/CPU-balanced order, the
// same rules as admission's placeSlots) on:
//   (a) the paper's workload: 218 services (118 migrated from EGIS, 100 new) of 20 departments;
//   (b) a ten-times larger synthetic one (2,180 services);
//   (c) 10,000 services.
// Sizes are ILLUSTRATIVE, chosen here (the paper gives none): each service 2-4 instances of
// 1, 2, 4 or 8 GB, one CPU each (what the local runtime gives an instance), tiers 20 % gold,
// 50 % silver, 30 % bronze; a seeded generator, so every run places the same workload. Farms are
// of one illustrative size: 64 vCPU and 256 GB, no overcommit.
//
// Prints per workload, with gold spread off and on (gold services with 2+ instances on 2+ farms):
// services, instances, farms used, the lower bound ⌈total demand / one farm⌉ on the binding
// resource, farms used / lower bound (goal: within 5 %), and the time to place (median of 5 runs).
import { farmsLowerBound, placeAll } from '../src/capacity/placement.ts';

const FARM = { memoryMb: 256 * 1024, cpu: 64 };
const RUNS = 5;

/** mulberry32: a small seeded generator, so the workload is the same on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function workload(n, seed) {
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  return Array.from({ length: n }, (_, i) => {
    const x = r();
    const tier = x < 0.2 ? 'gold' : x < 0.7 ? 'silver' : 'bronze';
    return {
      key: `D${String(i % 20).padStart(2, '0')}/s${i}`,
      origin: i < Math.round((n * 118) / 218) ? 'migrated' : 'new',
      tier,
      instances: 2 + Math.floor(r() * 3),
      memoryMb: pick([1024, 2048, 4096, 8192]),
      cpu: 1,
    };
  });
}

function run(services, spreadGold) {
  const demands = services.map((s) => ({
    key: s.key,
    instances: s.instances,
    memoryMb: s.memoryMb,
    cpu: s.cpu,
    spread: spreadGold && s.tier === 'gold' && s.instances >= 2 ? 2 : 1,
  }));
  const bound = farmsLowerBound(FARM, demands);
  const farmCount = bound.farms * 2 + 2;
  const times = [];
  let result;
  for (let i = 0; i < RUNS; i++) {
    const farms = Array.from({ length: farmCount }, (_, k) => ({
      id: `F${k}`,
      code: `F${k}`,
      memoryMb: FARM.memoryMb,
      cpu: FARM.cpu,
      usedMemoryMb: 0,
      usedCpu: 0,
    }));
    const t0 = performance.now();
    result = placeAll(farms, demands);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  if (result.failed.length > 0) throw new Error(`${result.failed.length} services did not fit`);
  if (spreadGold) {
    for (const d of demands) {
      if (d.spread > 1 && new Set(result.placed.get(d.key)).size < 2) throw new Error(`${d.key} not spread`);
    }
  }
  return {
    services: services.length,
    instances: demands.reduce((s, d) => s + d.instances, 0),
    farms: result.farmsUsed,
    bound: bound.farms,
    binding: bound.binding,
    ratio: result.farmsUsed / bound.farms,
    ms: times[Math.floor(RUNS / 2)],
  };
}

const rows = [];
for (const [name, n, seed] of [
  ['(a) paper: 118 migrated + 100 new, 20 B/Ds', 218, 2011],
  ['(b) ten times larger', 2180, 2012],
  ['(c) 10,000 services', 10_000, 2015],
]) {
  const services = workload(n, seed);
  for (const spread of [false, true])
    rows.push({ name, spread: spread ? 'on' : 'off', ...run(services, spread) });
}

const head = [
  'workload',
  'gold spread',
  'services',
  'instances',
  'farms used',
  'lower bound',
  'used/bound',
  'place ms (median of 5)',
];
const body = rows.map((r) => [
  r.name,
  r.spread,
  String(r.services),
  String(r.instances),
  String(r.farms),
  `${r.bound} (${r.binding})`,
  `${r.ratio.toFixed(3)}${r.ratio <= 1.05 ? '' : ' > 1.05!'}`,
  r.ms.toFixed(1),
]);
const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(
  `farm: ${FARM.cpu} vCPU, ${FARM.memoryMb / 1024} GB; instances 2-4 of 1/2/4/8 GB, 1 CPU each (illustrative)`,
);
console.log(line(head));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const b of body) console.log(line(b));
