/**
 * A release's staging output, one file per release under the data folder (private: a build may
 * print what only its department should see), written as it comes so `govhost deploy` can follow
 * it, and kept with the release for `govhost logs --staging`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';

/** Lines kept in memory from the end, to pick the decisive ones from when staging fails. */
const KEEP = 400;
/** Largest staging log kept on disk; past it, lines are counted, not written. */
const MAX_BYTES = 8 * 1024 * 1024;

export const stagingLogPath = (logsDir: string, releaseId: string) => join(logsDir, `${releaseId}.log`);

export class StagingLog {
  private readonly recent: string[] = [];
  private written = 0;
  private dropped = 0;

  private constructor(
    private readonly out: Writable,
    private readonly redact: (line: string) => string,
  ) {}

  static async open(logsDir: string, releaseId: string, redact: (line: string) => string) {
    await mkdir(logsDir, { recursive: true, mode: 0o700 });
    return new StagingLog(
      createWriteStream(stagingLogPath(logsDir, releaseId), { flags: 'a', mode: 0o600 }),
      redact,
    );
  }

  /**
   * A log written to `out` instead of a file, left open when the log closes (a staging Job's
   * stdout, which is its pod's log).
   */
  static toStream(out: NodeJS.WritableStream, redact: (line: string) => string) {
    const through = new PassThrough();
    through.pipe(out, { end: false });
    return new StagingLog(through, redact);
  }

  /** One line of a build tool's output (secrets taken out first). */
  line(raw: string): void {
    const line = this.redact(raw.replace(/\r$/, '').replace(/\p{Cc}/gu, (c) => (c === '\t' ? c : '')));
    this.recent.push(line);
    if (this.recent.length > KEEP) this.recent.shift();
    if (this.written + line.length + 1 > MAX_BYTES) {
      this.dropped++;
      return;
    }
    this.written += line.length + 1;
    this.out.write(`${line}\n`);
  }

  /** A line of the platform's own: what it is doing. */
  say(text: string): void {
    this.line(`-----> ${text}`);
  }

  lines(): readonly string[] {
    return this.recent;
  }

  async close(): Promise<void> {
    if (this.dropped > 0)
      this.out.write(`-----> ${this.dropped} more lines were not kept (the log is limited to 8 MiB)\n`);
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}

/** Reads a staging log from `offset` (bytes); `null` when the release has none. */
export async function readStagingLog(
  logsDir: string,
  releaseId: string,
  offset: number,
): Promise<{ text: string; nextOffset: number } | null> {
  const path = stagingLogPath(logsDir, releaseId);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return null;
  }
  if (offset >= size) return { text: '', nextOffset: size };
  const handle = await open(path, 'r');
  try {
    const length = Math.min(size - offset, 1024 * 1024);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, offset);
    // Whole lines only, so a reader that follows never sees a line cut (or a character split).
    const end = buf.lastIndexOf(10, bytesRead - 1) + 1;
    return { text: buf.subarray(0, end).toString('utf8'), nextOffset: offset + end };
  } finally {
    await handle.close();
  }
}
