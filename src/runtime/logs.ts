import { open, stat } from 'node:fs/promises';
import { PassThrough } from 'node:stream';

const TAIL_READ_BYTES = 256 * 1024;

async function readRange(path: string, start: number, end: number): Promise<string> {
  if (end <= start) return '';
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

async function size(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The last `lines` lines of an instance's log, including its rotated part. */
export async function tailLog(path: string, lines: number): Promise<string[]> {
  // slice(-0) would be every line: none asked, none given.
  if (lines <= 0) return [];
  const current = await size(path);
  let text = await readRange(path, Math.max(0, current - TAIL_READ_BYTES), current);
  if (text.split('\n').length <= lines) {
    const old = await size(`${path}.1`);
    text = (await readRange(`${path}.1`, Math.max(0, old - TAIL_READ_BYTES), old)) + text;
  }
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines);
}

export interface LogFile {
  instanceId: string;
  /** The instance's log file on this host; empty where the driver keeps none (Kubernetes). */
  path: string;
  /** Where there is no file: the instance's lines as the driver reads them (all, or the last `tail`). */
  read?: (tail?: number) => Promise<string[]>;
}

/**
 * Lines of several instances' logs, each prefixed with its instance: first the tail, then, when
 * following, new lines as they are written, until `signal` aborts. `files` is asked again on
 * every round, so instances started later (a rollout, a scale, a restart) join the stream from
 * their first line.
 */
export function logStream(
  files: () => LogFile[] | Promise<LogFile[]>,
  opts: { tail: number; follow: boolean; signal: AbortSignal },
): PassThrough {
  const out = new PassThrough();
  const label = (id: string) => `[${id}] `;
  void (async () => {
    const offsets = new Map<string, number>();
    /** Lines already sent of each log read through its driver (a pod's). */
    const seen = new Map<string, number>();
    for (const f of await files()) {
      if (f.read) {
        for (const line of opts.tail > 0 ? await f.read(opts.tail) : [])
          out.write(`${label(f.instanceId)}${line}\n`);
        if (opts.follow) seen.set(f.instanceId, (await f.read()).length);
        continue;
      }
      for (const line of await tailLog(f.path, opts.tail)) out.write(`${label(f.instanceId)}${line}\n`);
      offsets.set(f.path, await size(f.path));
    }
    if (!opts.follow) return out.end();
    const partial = new Map<string, string>();
    while (!opts.signal.aborted) {
      for (const f of await files()) {
        if (f.read) {
          const all = await f.read().catch(() => [] as string[]);
          for (const line of all.slice(seen.get(f.instanceId) ?? 0))
            out.write(`${label(f.instanceId)}${line}\n`);
          seen.set(f.instanceId, all.length);
          continue;
        }
        const end = await size(f.path);
        let from = offsets.get(f.path) ?? 0;
        if (end < from) from = 0; // rotated: the file was truncated
        if (end === from) continue;
        const text = (partial.get(f.path) ?? '') + (await readRange(f.path, from, end));
        offsets.set(f.path, end);
        const lines = text.split('\n');
        partial.set(f.path, lines.pop() ?? '');
        for (const line of lines) out.write(`${label(f.instanceId)}${line}\n`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    out.end();
  })().catch((err) => out.destroy(err as Error));
  return out;
}
