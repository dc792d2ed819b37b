/**
 * CPU time and resident memory of process groups, from one pass over /proc. An instance's pid is
 * a `/bin/sh -c` shell leading its own process group, so its figures are the sums over every
 * process whose pgrp is that pid. Linux only; elsewhere the map is empty.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface GroupUsage {
  /** utime + stime of the group's live processes, seconds. */
  cpuSeconds: number;
  /** Sum of their resident set sizes, bytes. */
  rssBytes: number;
}

function conf(name: string, fallback: number): number {
  try {
    const n = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

let ticks: number | null = null;
let pageSize: number | null = null;

/** Usage of each wanted process group (by leader pid); one read of /proc/<pid>/stat per process. */
export function groupUsage(wanted: ReadonlySet<number>): Map<number, GroupUsage> {
  const out = new Map<number, GroupUsage>();
  if (wanted.size === 0) return out;
  ticks ??= conf('CLK_TCK', 100);
  pageSize ??= conf('PAGESIZE', 4096);
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // Field 2 (the command) may hold spaces and ')': fields are counted after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    if (!wanted.has(pgrp)) continue;
    const state = f[0];
    if (state === 'Z' || state === 'X') continue;
    // Fields 14, 15 (utime, stime) and 24 (rss in pages), at index N - 3.
    const cpu = (Number(f[11]) + Number(f[12])) / ticks;
    const rss = Number(f[21]) * pageSize;
    const u = out.get(pgrp);
    if (u) {
      u.cpuSeconds += cpu;
      u.rssBytes += rss;
    } else out.set(pgrp, { cpuSeconds: cpu, rssBytes: rss });
  }
  return out;
}
