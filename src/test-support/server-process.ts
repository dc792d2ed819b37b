import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/govhost.mjs', import.meta.url));

/**
 * The environment for a `govhost` child process: nothing from the developer's shell may steer it
 * (GOVHOST_*, DATABASE_URL), and the runner's `--import` of the TypeScript loader is dropped because
 * the bin registers it itself. Service users (made as root) get the test run's prefix, so that the runner removes
 * them at its end.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('GOVHOST_') && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS',
    ),
  );
  const prefix = process.env.GOVHOST_TEST_SERVICE_USER_PREFIX;
  return { ...env, ...(prefix ? { GOVHOST_SERVICE_USER_PREFIX: prefix } : {}), ...extra };
}

export interface GovhostProcess {
  child: ChildProcess;
  pid: number;
  /** Everything printed so far. */
  out(): string;
  err(): string;
  /** Resolves when the process has ended. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until `find` returns a value from the output; fails if the process ends first. */
  waitFor<T>(find: (out: string) => T | null | undefined, what: string, ms?: number): Promise<T>;
}

/** Children stopped through stopProcess: any other end of a server is worth a line in the output. */
const stopping = new WeakSet<ChildProcess>();

/** Runs `govhost <args>` as a real child process. */
export function launch(args: string[], env: NodeJS.ProcessEnv): GovhostProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let ended = false;
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true;
      if (args[0] === 'server' && !stopping.has(child)) {
        // A test that kills its server on purpose sees this too; one whose server died under it
        // (an API call failing with ECONNRESET) learns when and how, and the server's last words.
        process.stderr.write(
          `govhost server pid ${child.pid} ended at ${new Date().toISOString()} without stopProcess (code ${code}, signal ${signal}); its last stderr:\n${err.slice(-2000)}\n`,
        );
      }
      resolve({ code, signal });
    }),
  );
  return {
    child,
    pid: child.pid ?? 0,
    out: () => out,
    err: () => err,
    closed,
    async waitFor(find, what, ms = 30_000) {
      for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
        const found = find(out);
        if (found !== null && found !== undefined) return found;
        if (ended) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(
        `no ${what} from govhost ${args.join(' ')} (pid ${child.pid})\nstdout:\n${out}\nstderr:\n${err}`,
      );
    },
  };
}

interface ReadyLine {
  msg?: string;
  url?: string;
  routerUrl?: string | null;
}

/** The pino line "GovHost is ready", once that whole line has arrived. */
export const readyLine = (out: string): ReadyLine | undefined =>
  out
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ReadyLine)
    .find((l) => l.msg === 'GovHost is ready');

/** The first-admin token the server prints on its first start. */
export const printedToken = (out: string) => /^ {4}token: (ghk_[\w-]+)$/m.exec(out)?.[1];

/** Starts `govhost server` and waits until it is ready. */
export async function startServer(env: NodeJS.ProcessEnv) {
  if (env.GOVHOST_DATA_DIR) {
    passableTempParents(env.GOVHOST_DATA_DIR);
    seedStore(env.GOVHOST_DATA_DIR, env);
  }
  const proc = launch(['server'], env);
  let ready: ReadyLine;
  try {
    // Generous: a first start creates the PGlite store, which takes seconds on a busy machine.
    ready = await proc.waitFor(readyLine, 'ready line', 90_000);
  } catch (err) {
    // A server that never got ready may already run a router and instances: a clean stop ends them.
    await stopProcess(proc);
    throw err;
  }
  return {
    proc,
    url: ready.url as string,
    routerUrl: ready.routerUrl ?? null,
    token: printedToken(proc.out()) ?? null,
  };
}

/**
 * A test's data folder sits in a private (0700) temporary folder, which service users cannot pass
 * through; run as root, the platform would then put the services' working copies in a folder of
 * their own under the system temp directory, left behind after the test. Opening the test's
 * folders for passage (not reading) keeps the copies inside the data folder, removed with it.
 */
function passableTempParents(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const root = resolve(tmpdir());
  for (let d = dirname(resolve(dataDir)); d.startsWith(`${root}${sep}`); d = dirname(d)) {
    try {
      chmodSync(d, statSync(d).mode | 0o011);
    } catch {
      // Not made yet: the platform makes it.
    }
  }
}

/**
 * Creating a PGlite store costs seconds of CPU (initdb), the most of a first start; under the
 * test runner a new data folder starts from its migrated template instead, as `testApp` does.
 * The server still migrates and creates its first admin itself; the restart suite (its own
 * launcher) keeps a start from nothing at all covered.
 */
function seedStore(dataDir: string, env: NodeJS.ProcessEnv): void {
  const template = process.env.GOVHOST_TEST_PGLITE_TEMPLATE;
  if (!template || env.DATABASE_URL || existsSync(join(dataDir, 'pgdata'))) return;
  cpSync(template, dataDir, { recursive: true });
}

/** Stops a process with `signal` and waits for it; SIGKILL after `graceMs`. */
export async function stopProcess(
  proc: GovhostProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 15_000,
) {
  stopping.add(proc.child);
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.closed;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const result = await proc.closed;
  clearTimeout(timer);
  return result;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one `govhost` command as people run it, against `url` with `token`, and no stored login
 * (a credentials path that does not exist), collecting its exit code and output.
 */
export function runCli(url: string, token: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--url', url, '--token', token, ...args], {
      env: cleanEnv({ GOVHOST_CLI_CONFIG: '/nonexistent/credentials.json' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
