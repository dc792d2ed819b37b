import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { detectCgroups, InstanceCgroup } from './cgroups.ts';
import { tempDir } from './test-helpers.ts';

// Fake cgroup trees in plain folders: enough to check which files get which values. The real
// kernel behaviour (an OOM kill at the limit) is tested in supervisor-limits.test.ts.
const dirs: string[] = [];
const fakeRoot = (files: Record<string, string>) => {
  const root = tempDir('fake-cgroup');
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const read = (...parts: string[]) => readFileSync(join(...parts), 'utf8');

describe('cgroups', () => {
  it('sets memory.max and cpu.max in one group on cgroup v2', () => {
    const root = fakeRoot({
      'cgroup.controllers': 'cpuset cpu io memory pids\n',
      'cgroup.subtree_control': '',
    });
    const layout = detectCgroups(root);
    assert.equal(layout.version, 2);
    assert.equal(read(root, 'cgroup.subtree_control'), '+memory +cpu');
    assert.equal(read(root, 'govhost', 'cgroup.subtree_control'), '+memory +cpu');
    const made = InstanceCgroup.create(layout, 'inst-1', 64, 0.25);
    assert.ok(made instanceof InstanceCgroup);
    assert.deepEqual(made.limits, { memory: true, cpu: true, reason: null });
    assert.deepEqual(made.dirs, [join(root, 'govhost', 'inst-1')]);
    assert.equal(read(root, 'govhost', 'inst-1', 'memory.max'), String(64 * 1024 * 1024));
    assert.equal(read(root, 'govhost', 'inst-1', 'memory.swap.max'), '0');
    assert.equal(read(root, 'govhost', 'inst-1', 'cpu.max'), '25000 100000');
  });

  it('sets limit_in_bytes and the CFS quota in two hierarchies on cgroup v1', () => {
    const root = fakeRoot({ 'memory/memory.limit_in_bytes': '', 'cpu,cpuacct/cpu.cfs_quota_us': '' });
    const layout = detectCgroups(root);
    assert.equal(layout.version, 1);
    const made = InstanceCgroup.create(layout, 'inst-2', 128, 1.5);
    assert.ok(made instanceof InstanceCgroup);
    assert.deepEqual(made.limits, { memory: true, cpu: true, reason: null });
    assert.equal(
      read(root, 'memory', 'govhost', 'inst-2', 'memory.limit_in_bytes'),
      String(128 * 1024 * 1024),
    );
    assert.equal(read(root, 'cpu,cpuacct', 'govhost', 'inst-2', 'cpu.cfs_quota_us'), '150000');
    assert.equal(read(root, 'cpu,cpuacct', 'govhost', 'inst-2', 'cpu.cfs_period_us'), '100000');
  });

  it('enforces what it can and says why not the rest', () => {
    const root = fakeRoot({ 'memory/memory.limit_in_bytes': '' });
    const made = InstanceCgroup.create(detectCgroups(root), 'inst-3', 64, 1);
    assert.ok(made instanceof InstanceCgroup);
    assert.equal(made.limits.memory, true);
    assert.equal(made.limits.cpu, false);
    assert.match(made.limits.reason ?? '', /no cpu cgroup hierarchy/);
  });

  it('reports no limits, with the reason, where there are no cgroups', () => {
    assert.deepEqual(InstanceCgroup.create(detectCgroups(null), 'x', 64, 1), {
      memory: false,
      cpu: false,
      reason: 'cgroups turned off by configuration',
    });
    const empty = fakeRoot({});
    const none = InstanceCgroup.create(detectCgroups(empty), 'x', 64, 1);
    assert.ok(!(none instanceof InstanceCgroup));
    assert.match(none.reason ?? '', /no memory cgroup hierarchy/);
  });
});
