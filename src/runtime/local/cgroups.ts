/**
 * Memory and CPU limits through cgroups, where the host lets us: one group per instance under
 * `govhost/` in each hierarchy, e.g. /sys/fs/cgroup/memory/govhost/<instanceId> on cgroup v1 or
 * /sys/fs/cgroup/govhost/<instanceId> on v2. When it cannot, the instance still runs, and its
 * LimitsReport says why the limits are not enforced.
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { LimitsReport } from '../runtime.types.ts';

const PARENT = 'govhost';
const CPU_PERIOD_US = 100_000;

/** Where each controller's groups go, or why there is none. */
export interface CgroupLayout {
  version: 1 | 2 | null;
  memoryParent: string | null;
  cpuParent: string | null;
  /** Why memory or cpu (or both) cannot be limited; null when both can. */
  reason: string | null;
}

const write = (dir: string, file: string, value: string) => writeFileSync(join(dir, file), value);
const errText = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function detectV2(root: string): CgroupLayout {
  const controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/);
  const has = (c: string) => controllers.includes(c);
  if (!has('memory') && !has('cpu')) {
    return {
      version: 2,
      memoryParent: null,
      cpuParent: null,
      reason: 'cgroup v2 has no memory or cpu controller',
    };
  }
  const parent = join(root, PARENT);
  const wanted = ['memory', 'cpu'].filter(has);
  // v2 hands a controller to children only when each ancestor lists it in cgroup.subtree_control.
  mkdirSync(parent, { recursive: true });
  const enable = wanted.map((c) => `+${c}`).join(' ');
  write(root, 'cgroup.subtree_control', enable);
  write(parent, 'cgroup.subtree_control', enable);
  const missing = ['memory', 'cpu'].filter((c) => !has(c));
  return {
    version: 2,
    memoryParent: has('memory') ? parent : null,
    cpuParent: has('cpu') ? parent : null,
    reason: missing.length ? `cgroup v2 has no ${missing.join(' or ')} controller` : null,
  };
}

/** Why a hierarchy we found cannot take our groups. */
const notWritable = () => (process.getuid?.() === 0 ? 'no writable cgroup hierarchy' : 'not root');

function detectV1(root: string): CgroupLayout {
  const reasons: string[] = [];
  // Distributions mount cpu alone or co-mounted with cpuacct; either carries the CFS quota files.
  const parent = (controller: string, file: string, names: string[]): string | null => {
    const dir = names.map((n) => join(root, n)).find((d) => existsSync(join(d, file)));
    if (!dir) {
      reasons.push(`no ${controller} cgroup hierarchy at ${root}`);
      return null;
    }
    if (!writable(dir)) {
      reasons.push(`${notWritable()} (${controller})`);
      return null;
    }
    mkdirSync(join(dir, PARENT), { recursive: true });
    return join(dir, PARENT);
  };
  const memoryParent = parent('memory', 'memory.limit_in_bytes', ['memory']);
  const cpuParent = parent('cpu', 'cpu.cfs_quota_us', ['cpu', 'cpu,cpuacct']);
  return { version: 1, memoryParent, cpuParent, reason: reasons.join('; ') || null };
}

/** Finds what this host allows; never throws. `root` null turns limits off. */
export function detectCgroups(root: string | null): CgroupLayout {
  const none = (reason: string): CgroupLayout => ({
    version: null,
    memoryParent: null,
    cpuParent: null,
    reason,
  });
  if (root === null) return none('cgroups turned off by configuration');
  if (process.platform !== 'linux') return none(`cgroups are Linux only (this is ${process.platform})`);
  try {
    if (existsSync(join(root, 'cgroup.controllers'))) {
      return writable(root) ? detectV2(root) : none(notWritable());
    }
    const layout = detectV1(root);
    return layout.memoryParent || layout.cpuParent ? layout : none(layout.reason ?? notWritable());
  } catch (err) {
    return none(`cannot set up cgroups: ${errText(err)}`);
  }
}

/** One instance's groups (one per hierarchy on v1, a single one on v2). */
export class InstanceCgroup {
  private constructor(
    readonly dirs: string[],
    private readonly memoryDir: string | null,
    private readonly version: 1 | 2,
    readonly limits: LimitsReport,
  ) {}

  /** Creates (or reuses, after a control-plane restart) the groups and sets the limits. */
  static create(
    layout: CgroupLayout,
    instanceId: string,
    memoryMb: number,
    cpu: number,
  ): InstanceCgroup | LimitsReport {
    if (layout.version === null) return { memory: false, cpu: false, reason: layout.reason };
    const reasons: string[] = layout.reason ? [layout.reason] : [];
    const v2 = layout.version === 2;
    // On v2 both limits live in one group (the same parent), so the second call reuses the folder.
    const attempt = (what: string, parent: string | null, apply: (dir: string) => void): string | null => {
      if (!parent) return null;
      const dir = join(parent, instanceId);
      try {
        mkdirSync(dir, { recursive: true });
        apply(dir);
        return dir;
      } catch (err) {
        reasons.push(`cannot set ${what} limit: ${errText(err)}`);
        return null;
      }
    };
    const bytes = String(memoryMb * 1024 * 1024);
    const quota = String(Math.max(1000, Math.round(cpu * CPU_PERIOD_US)));
    const memoryDir = attempt('memory', layout.memoryParent, (dir) => {
      write(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes', bytes);
      // Without this, a host with swap lets the instance page out past its limit. Absent when the
      // kernel does no swap accounting, which is fine: then there is no swap to escape into.
      try {
        write(dir, v2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes', v2 ? '0' : bytes);
      } catch {}
    });
    const cpuDir = attempt('cpu', layout.cpuParent, (dir) => {
      if (v2) return write(dir, 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
      write(dir, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
      write(dir, 'cpu.cfs_quota_us', quota);
    });
    const dirs = [...new Set([memoryDir, cpuDir].filter((d): d is string => d !== null))];
    const limits = { memory: memoryDir !== null, cpu: cpuDir !== null, reason: reasons.join('; ') || null };
    if (dirs.length === 0) return limits;
    return new InstanceCgroup(dirs, memoryDir, layout.version, limits);
  }

  /** Moves a process into every group; its children are born inside. */
  join(pid: number): void {
    for (const dir of this.dirs) write(dir, 'cgroup.procs', String(pid));
  }

  /** Running processes in the groups, including any that left the process group with setsid. */
  pids(): number[] {
    const out = new Set<number>();
    for (const dir of this.dirs) {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
          if (line) out.add(Number(line));
        }
      } catch {
        // Removed already.
      }
    }
    return [...out];
  }

  /**
   * Working-set memory: usage minus inactive file cache, the figure the kernel reclaims last
   * and the one that `docker stats` and `kubectl top` show. Raw usage counts the page cache of
   * the instance's own log writes, which is not the instance's memory.
   */
  memoryBytes(): number | null {
    if (!this.memoryDir) return null;
    try {
      const usage = Number(
        readFileSync(
          join(this.memoryDir, this.version === 2 ? 'memory.current' : 'memory.usage_in_bytes'),
          'utf8',
        ),
      );
      const stat = readFileSync(join(this.memoryDir, 'memory.stat'), 'utf8');
      const key = this.version === 2 ? 'inactive_file' : 'total_inactive_file';
      const inactive = Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
      return Math.max(0, usage - inactive);
    } catch {
      return null;
    }
  }

  /** How many times the kernel killed a process of the group for memory (0 when unknown). */
  oomKills(): number {
    if (!this.memoryDir) return 0;
    try {
      const file = this.version === 2 ? 'memory.events' : 'memory.oom_control';
      const text = readFileSync(join(this.memoryDir, file), 'utf8');
      return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /** Removes the groups; they must be empty of running processes. True when all are gone. */
  remove(): boolean {
    let ok = true;
    for (const dir of this.dirs) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') ok = false;
      }
    }
    return ok;
  }
}
