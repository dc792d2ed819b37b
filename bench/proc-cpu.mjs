// CPU accounting from /proc for the benchmarks (Linux only): what a set of processes used, and
// what the whole machine did meanwhile, so that a run can say how much other load it shared the
// CPUs with. Shared by bench/router.mjs and bench/payments.mjs.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The process and all its descendants (cluster workers, nginx workers, a server's router). */
export function tree(pid) {
  const kids = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(name));
    } catch {}
  }
  const out = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < 1000) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(kids.get(p) ?? []));
  }
  return out;
}

/** CPU-seconds of each process (0 for one that is gone). */
export function cpuEach(pids) {
  return new Map(pids.map((pid) => [pid, cpuSeconds([pid])]));
}

/** CPU-seconds (user + system) the processes have used so far; one that is gone counts 0. */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch {}
  }
  return ticks / TICKS;
}

/** Busy CPU-seconds of the whole machine, from /proc/stat (all but idle and iowait). */
export function machineBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / TICKS;
}

/** CPU-seconds of this script's finished children (wrk), from /proc/self/stat cutime+cstime. */
export function childrenSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / TICKS;
}

/** CPU-seconds of this script's own process. */
export function selfSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
