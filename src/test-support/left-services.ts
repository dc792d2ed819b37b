import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const signal = (pid: number, sig: NodeJS.Signals | 0) => {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
};

/**
 * Ends the router and the instances that replicas on PostgreSQL leave running when they stop (for
 * the next lease holder to adopt), once a test or bench is done with them: the router by the pid
 * in its `router.json`, each instance by the process group its record names (spawned detached).
 */
export async function stopLeftServices(dataDir: string): Promise<void> {
  const pids: number[] = [];
  try {
    pids.push(JSON.parse(readFileSync(join(dataDir, 'router', 'router.json'), 'utf8')).pid);
  } catch {
    // No router was started.
  }
  const records = join(dataDir, 'runtime', 'instances');
  // None on Kubernetes, whose instances are pods.
  const entries = existsSync(records) ? readdirSync(records, { withFileTypes: true }) : [];
  for (const name of entries.filter((e) => e.name.endsWith('.json'))) {
    try {
      pids.push(-JSON.parse(readFileSync(join(records, name.name), 'utf8')).pid);
    } catch {
      // Half-written record: its instance was never started.
    }
  }
  const live = pids.filter((p) => Number.isInteger(p) && p !== 0 && signal(p, 'SIGTERM'));
  for (const deadline = Date.now() + 5_000; Date.now() < deadline && live.some((p) => signal(p, 0)); )
    await new Promise((r) => setTimeout(r, 25));
  for (const p of live) signal(p, 'SIGKILL');
}
