/**
 * One log file per instance: the child writes its stdout and stderr straight into it through a
 * file descriptor we open, so its output keeps landing there while the control plane is down.
 * Size-bounded by copy-and-truncate into `<file>.1`.
 */
import { appendFileSync, openSync } from 'node:fs';
import { copyFile, open, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';

/** Path of an instance's current log; the previous one is the same with `.1`. */
export const logFile = (logDir: string, instanceId: string) => join(logDir, `${instanceId}.log`);

/** Opens for append (O_APPEND): every write of every process lands at the end, whatever the offset. */
export function openLogForChild(path: string): number {
  return openSync(path, 'a', 0o640);
}

/** Adds a line of our own (start, exit, restart) so the log reads as the instance's history. */
export function noteInLog(path: string, text: string): void {
  try {
    appendFileSync(path, `[govhost ${new Date().toISOString()}] ${text}\n`, { mode: 0o640 });
  } catch {
    // The log is a convenience; a missing folder must not stop supervision.
  }
}

/**
 * Moves the log to `.1` when it passes `maxBytes`: copy, then truncate in place. Renaming would
 * leave the child writing into the old file through its descriptor; with O_APPEND, truncation
 * simply moves its next write to offset 0. Lines written between copy and truncate are lost,
 * the known price of copy-and-truncate. Returns true when it rotated.
 */
export async function rotateIfLarge(path: string, maxBytes: number): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  await copyFile(path, `${path}.1`);
  await truncate(path, 0);
  return true;
}

const BLOCK = 64 * 1024;

/** Last `count` lines of a file (all when count is undefined), reading backwards in blocks. */
async function lastLines(path: string, count: number | undefined): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    let start = size;
    const blocks: Buffer[] = [];
    let newlines = 0;
    // Read until there are more newlines than lines wanted, so the first line kept is whole.
    // Bytes, not strings, until the end: a block edge may cut a multi-byte character.
    while (start > 0 && (count === undefined || newlines <= count)) {
      const length = Math.min(BLOCK, start);
      start -= length;
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, start);
      blocks.unshift(buf);
      for (const byte of buf) if (byte === 10) newlines++;
    }
    const text = Buffer.concat(blocks).toString('utf8');
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (start > 0) lines.shift();
    return count === undefined ? lines : lines.slice(-count);
  } finally {
    await handle.close();
  }
}

/** Last lines across `.1` and the current file, oldest first; all of both without a tail. */
export async function readLogTail(path: string, tail?: number): Promise<string[]> {
  if (tail !== undefined && tail <= 0) return [];
  const current = await lastLines(path, tail);
  if (tail !== undefined && current.length >= tail) return current;
  const previous = await lastLines(`${path}.1`, tail === undefined ? undefined : tail - current.length);
  return [...previous, ...current];
}

/**
 * Deletes the logs of instances that no longer run once they are older than `maxAgeMs` (by
 * their last write), keeping every log of a live instance. Returns the instance ids pruned.
 * Stopped instances' logs stay a while on purpose: they explain what a rollout replaced.
 */
export async function pruneLogs(
  logDir: string,
  live: ReadonlySet<string>,
  maxAgeMs: number,
  now = Date.now(),
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(logDir);
  } catch {
    return [];
  }
  const pruned = new Set<string>();
  for (const name of names) {
    const m = /^(.+)\.log(\.1)?$/.exec(name);
    if (!m?.[1] || live.has(m[1])) continue;
    const path = join(logDir, name);
    try {
      if (now - (await stat(path)).mtimeMs < maxAgeMs) continue;
      await rm(path, { force: true });
      pruned.add(m[1]);
    } catch {
      // Gone already, or not ours to remove: the next sweep tries again.
    }
  }
  return [...pruned];
}
