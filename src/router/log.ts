/**
 * Structured log lines (object first, short message), one JSON object per line on stderr.
 * The router keeps its own tiny logger: it runs as a separate, small process and must not
 * block its event loop on a logging pipeline, and stdout is kept for the "ready" line.
 */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function line(level: string, obj: object, msg: string): void {
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), ...obj, msg })}\n`);
}

export const stderrLog: Log = {
  info: (obj, msg) => line('info', obj, msg),
  warn: (obj, msg) => line('warn', obj, msg),
  error: (obj, msg) => line('error', obj, msg),
};

export const silentLog: Log = { info() {}, warn() {}, error() {} };
