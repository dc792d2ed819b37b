/**
 * Spawns one run of an instance: `/bin/sh -c <command>` in its own session and process group,
 * its output on an append-only log descriptor, under its uid/gid, inside its cgroups.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import type { InstanceSpec } from '../runtime.types.ts';
import type { InstanceCgroup } from './cgroups.ts';
import { openLogForChild } from './log-files.ts';

/**
 * The child waits on fd 3 until we have put it in its cgroups, then replaces itself with the
 * real shell: otherwise a command that forks at once (`cd x && node y`) could start a child
 * before the move, outside the limits. It exits when the control plane dies before the move.
 */
const GATE = 'IFS= read -r _ <&3 || exit 125; exec 3<&-; exec /bin/sh -c "$0"';

/** PATH for an instance whose release does not set one: the system's plus this Node's folder. */
export const defaultPath = () =>
  [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
    .filter((d, i, all) => all.indexOf(d) === i)
    .join(':');

/**
 * The instance's whole environment. Nothing is inherited from the control plane, whose
 * environment holds the platform's own secrets (database URL, keys).
 */
export function instanceEnv(spec: InstanceSpec, port: number): Record<string, string> {
  const env: Record<string, string> = { ...spec.env, PORT: String(port) };
  env.HOME ??= spec.workDir;
  env.PATH ??= defaultPath();
  return env;
}

export interface SpawnedRun {
  child: ChildProcess;
  pid: number;
  /** Why the process could not be moved into its cgroups; it then runs without limits. */
  joinError: string | null;
}

/** Starts the process; rejects when the OS refuses (no such folder, not allowed to change uid…). */
export async function spawnInstance(
  spec: InstanceSpec,
  port: number,
  logPath: string,
  cgroup: InstanceCgroup | null,
): Promise<SpawnedRun> {
  const fd = openLogForChild(logPath);
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', cgroup ? ['-c', GATE, spec.command] : ['-c', spec.command], {
      cwd: spec.workDir,
      env: instanceEnv(spec, port),
      // Its own session and process group: signals to the group reach every process of the
      // instance, a terminal's Ctrl-C does not, and it outlives a control plane killed with -9.
      detached: true,
      stdio: ['ignore', fd, fd, ...(cgroup ? (['pipe'] as const) : [])],
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
  } finally {
    // The child has its own copy of the descriptor; ours is no longer needed.
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    const [err] = (await once(child, 'error')) as [NodeJS.ErrnoException];
    // Node blames /bin/sh for a missing working folder ("spawn /bin/sh ENOENT"): say which it is.
    const why = !existsSync(spec.workDir)
      ? `ENOENT: the working folder ${spec.workDir} does not exist`
      : err.message;
    throw new Error(`cannot start ${spec.instanceId}: ${why}`);
  }
  // A running instance must not keep the control plane's event loop alive (detach, shutdown).
  child.unref();
  let joinError: string | null = null;
  if (cgroup) {
    const gate = child.stdio[3] as Writable;
    gate.on('error', () => {}); // EPIPE when the child died before reading: its exit says why.
    try {
      cgroup.join(pid);
    } catch (err) {
      // It runs anyway, without limits, and its report says so.
      joinError = `cannot join cgroup: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
    gate.end('\n');
  }
  return { child, pid, joinError };
}
