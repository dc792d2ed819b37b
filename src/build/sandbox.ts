/**
 * Runs a staging's programs as the service's own OS user (when the platform is root), in a scratch
 * folder, with a clean environment and limits:
 * - time: one deadline for the whole staging; past it the process group (and cgroup) is killed;
 * - memory and CPU: a cgroup when the host allows (the supervisor's code, handed in as `limiter`);
 *   otherwise memory is measured (resident memory of the process group, every 200 ms) and the
 *   staging killed past the limit, and CPU is not limited (the log says so);
 * - disk: the scratch folder's size is measured every 2 s and after each program, and the staging
 *   killed past the limit (so a build may overshoot by what it writes in 2 s; see docs/build.md).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { groupUsage } from '../platform/proc-stats.ts';

export interface SandboxLimits {
  memoryMb: number;
  cpus: number;
  timeoutSec: number;
  diskMb: number;
}

/** A cgroup for one staging, from the runtime's cgroup code. */
export interface LimitGroup {
  join(pid: number): void;
  pids(): number[];
  /** OOM kills seen in the group so far. */
  oomKills(): number;
  remove(): void;
  memory: boolean;
  cpu: boolean;
}

/** Makes a cgroup for a staging, or says why it cannot. */
export type Limiter = (
  name: string,
  memoryMb: number,
  cpus: number,
) => LimitGroup | { reason: string | null };

/** Why a staging stopped: said in the deployment's message. */
export class StagingStopped extends Error {
  constructor(
    message: string,
    readonly why: 'failed' | 'time' | 'memory' | 'disk',
  ) {
    super(message);
    this.name = 'StagingStopped';
  }
}

const MEMORY_POLL_MS = 200;
const DISK_POLL_MS = 2000;

/** Bytes of files under `dir` (not following links), as `du --apparent-size` would count them. */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(path);
    else {
      try {
        total += (await lstat(path)).size;
      } catch {
        // Removed meanwhile.
      }
    }
  }
  return total;
}

export class Sandbox {
  private readonly deadline: number;
  private readonly group: LimitGroup | null;
  /** Why limits are not enforced by the kernel here, for the log. */
  readonly limitsNote: string | null;

  constructor(
    private readonly opts: {
      name: string;
      scratch: string;
      cwd: string;
      uid: number | null;
      env: Record<string, string>;
      limits: SandboxLimits;
      limiter: Limiter | null;
      onLine: (line: string) => void;
    },
  ) {
    this.deadline = Date.now() + opts.limits.timeoutSec * 1000;
    const made = opts.limiter?.(opts.name, opts.limits.memoryMb, opts.limits.cpus) ?? {
      reason: 'cgroups are not used',
    };
    this.group = 'join' in made ? made : null;
    this.limitsNote =
      this.group?.memory && this.group.cpu
        ? null
        : `memory is measured rather than limited by the kernel, and CPU is not limited (${'reason' in made ? made.reason : 'cgroup without memory or cpu'})`;
  }

  /** Runs one program to its end; rejects with StagingStopped when it fails or passes a limit. */
  async run(
    file: string,
    args: string[],
    extraEnv: Record<string, string> = {},
    name?: string,
  ): Promise<void> {
    const { opts } = this;
    if (Date.now() >= this.deadline) throw this.timeUp();
    // With a cgroup, the program waits on its stdin until it has been moved into the cgroup, and
    // only then becomes the program (exec, same pid): a program that forks at once (`sh -c` starts
    // its command within a millisecond) would otherwise leave children outside every limit.
    const gated = this.group !== null;
    const child = spawn(
      gated ? '/bin/sh' : file,
      gated ? ['-c', 'read -r _; exec "$0" "$@"', file, ...args] : args,
      {
        cwd: opts.cwd,
        env: { ...opts.env, ...extraEnv },
        detached: true,
        stdio: [gated ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        ...(opts.uid !== null ? { uid: opts.uid, gid: opts.uid } : {}),
      },
    );
    const oomBefore = this.group?.oomKills() ?? 0;
    let stopped: StagingStopped | null = null;
    const stop = (why: StagingStopped) => {
      stopped ??= why;
      this.kill(child);
    };
    let joined = false;
    if (child.pid !== undefined && this.group) {
      try {
        this.group.join(child.pid);
        joined = true;
      } catch {
        // It runs under the measured limits below instead.
      }
    }
    // Go (its stdin then ends, as /dev/null would).
    child.stdin?.on('error', () => {});
    child.stdin?.end('\n');
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const l of parts) opts.onLine(l);
      });
      stream?.on('end', () => partial && opts.onLine(partial));
    }
    const timer = setTimeout(() => stop(this.timeUp()), Math.max(0, this.deadline - Date.now()));
    const memoryLimit = opts.limits.memoryMb * 1024 * 1024;
    const memory = setInterval(() => {
      if ((joined && this.group?.memory) || child.pid === undefined) return;
      const rss = groupUsage(new Set([child.pid])).get(child.pid)?.rssBytes ?? 0;
      if (rss > memoryLimit) stop(this.memoryOut());
    }, MEMORY_POLL_MS);
    let measuring = false;
    const disk = setInterval(async () => {
      if (measuring) return;
      measuring = true;
      try {
        if ((await folderBytes(opts.scratch)) > opts.limits.diskMb * 1024 * 1024) stop(this.diskOut());
      } finally {
        measuring = false;
      }
    }, DISK_POLL_MS);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.on('error', (err) => {
        stopped ??= new StagingStopped(`cannot run ${file}: ${err.message}`, 'failed');
        resolve([null, null]);
      });
      // Whatever the program left running in its group goes when it exits, so its pipes close.
      child.on('exit', () => this.kill(child));
      child.on('close', (c, s) => resolve([c, s]));
    });
    clearTimeout(timer);
    clearInterval(memory);
    clearInterval(disk);
    this.kill(child);
    if (stopped) throw stopped;
    if (this.group && (this.group.oomKills() > oomBefore || (signal === 'SIGKILL' && this.group.memory)))
      throw this.memoryOut();
    if ((await folderBytes(opts.scratch)) > opts.limits.diskMb * 1024 * 1024) throw this.diskOut();
    if (code !== 0) {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      throw new StagingStopped(
        `${name ?? [file.split('/').pop(), ...args.slice(0, 1)].join(' ')} ${how}`,
        'failed',
      );
    }
  }

  /** Removes the cgroup (its processes are gone by then). */
  close(): void {
    this.group?.remove();
  }

  private kill(child: ChildProcess): void {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    // Processes that left the group with setsid are still in the cgroup.
    for (const pid of this.group?.pids() ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }

  private timeUp() {
    return new StagingStopped(
      `staging was stopped: it passed its time limit of ${this.opts.limits.timeoutSec} s`,
      'time',
    );
  }

  private memoryOut() {
    return new StagingStopped(
      `staging was stopped: it passed its memory limit of ${this.opts.limits.memoryMb} MiB`,
      'memory',
    );
  }

  private diskOut() {
    return new StagingStopped(
      `staging was stopped: it passed its disk limit of ${this.opts.limits.diskMb} MiB`,
      'disk',
    );
  }
}
