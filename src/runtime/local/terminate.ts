/**
 * Ending every process of an instance run. With a cgroup that the run joined before its command
 * started, the cgroup lists every process (even one that left the process group with setsid)
 * and is cheap to read; without one, the process group is found by reading all of /proc.
 */
import type { InstanceCgroup } from './cgroups.ts';
import { groupMembers, sendSignal, waitUntilEmpty } from './process-tree.ts';

/** How long processes may take to vanish after SIGKILL before we give up on them. */
const KILL_WAIT_MS = 2000;

export interface RunProcesses {
  /** Process group id (the pid of the run's shell), or null when no run is known. */
  pgid: number | null;
  /** The run's cgroups, or null when it runs without (or could not join them). */
  cgroup: InstanceCgroup | null;
}

/** Running processes of the run. */
export function runMembers({ pgid, cgroup }: RunProcesses): number[] {
  if (cgroup) return cgroup.pids();
  if (pgid === null) return [];
  // kill(-pgid, 0) fails when the group has no process at all: no need to read /proc. It
  // succeeds for zombies too, so then /proc decides.
  try {
    process.kill(-pgid, 0);
  } catch {
    return [];
  }
  return groupMembers(pgid);
}

function signalRun({ pgid, cgroup }: RunProcesses, signal: NodeJS.Signals): void {
  if (pgid !== null) sendSignal(-pgid, signal);
  for (const pid of cgroup?.pids() ?? []) sendSignal(pid, signal);
}

/**
 * SIGTERM and up to `graceMs` to finish (skipped when graceMs is 0), then SIGKILL for whatever
 * is left. `escalating` is told before the SIGKILL. Resolves with the pids that survived even
 * that (processes stuck in the kernel), normally none.
 */
export async function terminateRun(
  run: RunProcesses,
  graceMs: number,
  escalating?: () => void,
): Promise<number[]> {
  const members = () => runMembers(run);
  if (members().length === 0) return [];
  if (graceMs > 0) {
    signalRun(run, 'SIGTERM');
    if (await waitUntilEmpty(members, graceMs)) return [];
    escalating?.();
  }
  signalRun(run, 'SIGKILL');
  await waitUntilEmpty(members, KILL_WAIT_MS);
  return members();
}
