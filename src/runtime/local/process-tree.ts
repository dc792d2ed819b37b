/**
 * What /proc says about processes: liveness that is not fooled by pid reuse or zombies, and the
 * members of an instance's process group. Linux only, like the rest of the local driver.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), X (dead), … */
  state: string;
  ppid: number;
  pgid: number;
  /** Field 22: clock ticks after boot when the process started; with the pid, it names one process. */
  startTime: number;
}

/** Parses /proc/<pid>/stat; null when the process does not exist. */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces or ')': split after the
  // last ')'. What follows starts at field 3, so field N is at index N - 3.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTime: Number(fields[19]),
  };
}

const finished = (state: string) => state === 'Z' || state === 'X';

/**
 * True while the process runs. A zombie counts as gone: it has exited and only waits for its
 * parent to collect it (on hosts whose pid 1 never reaps, orphans stay zombies for ever). With a
 * start time, a different process that was given the same pid also counts as gone.
 */
export function isRunning(pid: number, startTime?: number): boolean {
  const stat = readProcStat(pid);
  if (!stat || finished(stat.state)) return false;
  return startTime === undefined || stat.startTime === startTime;
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readProcStat(pid);
    if (stat && !finished(stat.state)) out.push(stat);
  }
  return out;
}

/** Running (not zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  return allStats()
    .filter((s) => s.pgid === pgid)
    .map((s) => s.pid);
}

/** Running members of every process group, from one pass over /proc. */
export function allGroups(): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const s of allStats()) {
    const list = groups.get(s.pgid);
    if (list) list.push(s.pid);
    else groups.set(s.pgid, [s.pid]);
  }
  return groups;
}

/** Sends a signal, ignoring processes that are already gone. `target` < 0 names a process group. */
export function sendSignal(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Polls until `members()` is empty or the time is up; true when empty. Every 5 ms at first,
 * because this sits between a crash and the restart on the same port; every 50 ms after the
 * first 200 ms, because each poll reads all of /proc and a stop may wait 10 s.
 */
export async function waitUntilEmpty(members: () => number[], timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    if (members().length === 0) return true;
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) return false;
    await sleep(Math.min(elapsed < 200 ? 5 : 50, timeoutMs - elapsed));
  }
}

/** Resident memory of the given processes from /proc/<pid>/status VmRSS, in bytes. */
export function residentBytes(pids: number[]): number | null {
  let total = 0;
  let seen = false;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        total += Number(m[1]) * 1024;
        seen = true;
      }
    } catch {
      // It ended between the listing and this read.
    }
  }
  return seen ? total : null;
}
