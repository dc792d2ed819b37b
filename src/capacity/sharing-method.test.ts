// The savings-of-sharing method on small workloads worked by hand, and on the paper's workload.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paperWorkload } from '../provisioning/paper-workload.ts';
import { farmsNeeded, type SharingDemand, sharingOutcome } from './sharing-method.ts';

const farm = { memoryMb: 100_000, vcpu: 10 };
const d = (
  department: string,
  instances: number,
  memoryMb: number,
  cpu: number,
  spread = 1,
): SharingDemand => ({
  department,
  services: 1,
  instances,
  memoryMb,
  cpu,
  spread,
});

describe('the savings of sharing', () => {
  it('rounds each department up to whole farms alone, and pools them shared', () => {
    // Three departments of 30 GB each: alone 1 farm each; together 90 GB pass 80 % of one farm's
    // 100 GB, so 2 farms. 3 against 2.
    const o = sharingOutcome(farm, 0.8, [d('A', 1, 30_000, 1), d('B', 1, 30_000, 1), d('C', 1, 30_000, 1)]);
    assert.deepEqual([o.farmsAlone, o.farmsShared, o.farmsAvoided], [3, 2, 1]);
  });

  it('keeps a redundant service on two farms, alone and shared alike', () => {
    // A gold service of 2 small instances: 2 farms alone for A; B's small service shares them.
    assert.equal(farmsNeeded(farm, 0.8, [d('A', 2, 10_000, 1, 2)]), 2);
    const o = sharingOutcome(farm, 0.8, [d('A', 2, 10_000, 1, 2), d('B', 1, 10_000, 1)]);
    assert.deepEqual([o.farmsAlone, o.farmsShared], [3, 2]);
  });

  it('never counts fewer farms shared than the lower bound, nor more than alone', () => {
    // CPU binds: 4 × 3 CPU = 12 > 8 (80 % of 10): 2 farms; each department alone 1.
    const o = sharingOutcome(farm, 0.8, [d('A', 2, 1_000, 3), d('B', 2, 1_000, 3)]);
    assert.deepEqual([o.farmsAlone, o.farmsShared, o.farmsAvoided], [2, 2, 0]);
    // An instance bigger than a farm's 80 % takes a farm of its own on both sides.
    assert.equal(farmsNeeded(farm, 0.8, [d('A', 1, 90_000, 1), d('A', 1, 1_000, 1)]), 2);
  });

  it("finds 20 farms avoided on the paper's workload (41 alone, 21 shared)", () => {
    const w = paperWorkload();
    const ref = w.farms[0] as { memoryMb: number; vcpu: number };
    const demands = w.services.map((s) =>
      d(s.department, s.instances, s.memoryMb, s.cpu, s.slaTier === 'gold' ? 2 : 1),
    );
    const o = sharingOutcome(ref, 0.8, demands);
    assert.equal(o.departments.length, 20);
    assert.deepEqual([o.farmsAlone, o.farmsShared, o.farmsAvoided], [41, 21, 20]);
  });
});
