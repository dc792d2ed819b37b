/**
 * The state record of each supervised instance, `<stateDir>/<instanceId>.json`: what a new
 * supervisor needs to adopt a running instance after the control plane died, or to start it
 * again on the same port when it is gone.
 */
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceSpec } from '../runtime.types.ts';

export interface InstanceRecord {
  version: 1;
  spec: InstanceSpec;
  port: number;
  /** The `/bin/sh` we spawned; also its process group id (it was spawned detached). */
  pid: number;
  /** /proc/<pid>/stat field 22, so that a new process given the same pid is not taken for ours. */
  startTime: number;
  startedAt: string;
  restarts: number;
}

export interface RecordProblem {
  file: string;
  error: string;
}

export class RecordStore {
  /** Per-instance chain, so that a slow older write can never land after a newer one. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(instanceId: string): string {
    return join(this.dir, `${instanceId}.json`);
  }

  private queue(instanceId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.pending.get(instanceId) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => {});
    this.pending.set(instanceId, settled);
    void settled.then(() => {
      if (this.pending.get(instanceId) === settled) this.pending.delete(instanceId);
    });
    return next;
  }

  /**
   * Writes atomically: a temporary file, fsync, rename. A reader sees the old record or the new
   * one, never half of one; fsync because after a power cut the records are what restarts the
   * instances.
   */
  save(record: InstanceRecord): Promise<void> {
    const target = this.path(record.spec.instanceId);
    return this.queue(record.spec.instanceId, async () => {
      const temp = `${target}.${process.pid}.tmp`;
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    });
  }

  remove(instanceId: string): Promise<void> {
    return this.queue(instanceId, () => rm(this.path(instanceId), { force: true }));
  }

  async exists(instanceId: string): Promise<boolean> {
    try {
      await readFile(this.path(instanceId));
      return true;
    } catch {
      return false;
    }
  }

  /** Every readable record; unreadable ones are reported, not thrown, so one bad file stops nothing. */
  async loadAll(): Promise<{ records: InstanceRecord[]; problems: RecordProblem[] }> {
    const records: InstanceRecord[] = [];
    const problems: RecordProblem[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.dir, name);
      try {
        const record = JSON.parse(await readFile(file, 'utf8')) as InstanceRecord;
        if (record.version !== 1 || `${record.spec?.instanceId}.json` !== name) {
          throw new Error('not a version 1 record of this instance');
        }
        records.push(record);
      } catch (err) {
        problems.push({ file, error: (err as Error).message });
      }
    }
    return { records, problems };
  }
}
