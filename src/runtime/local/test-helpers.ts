/**
 * Helpers for the supervisor's tests: real processes (small Node scripts in temp folders),
 * waits on events or bounded polls, and a cleanup that leaves no process behind.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HealthCheck, InstanceSpec, InstanceStatus } from '../runtime.types.ts';
import type { LocalSupervisorOptions } from './local.types.ts';
import { isRunning, readProcStat, sendSignal } from './process-tree.ts';
import { LocalSupervisor } from './supervisor.ts';

/** The Node that runs the tests runs the instances, by absolute path. */
export const NODE = process.execPath;

/**
 * An HTTP server on $PORT. `/healthz` answers 500 while a file named `sick` exists in its
 * folder, so a test can make it fail and recover without restarting it.
 */
export const SERVER_JS = `
const http = require('node:http');
const fs = require('node:fs');
http.createServer((req, res) => {
  if (req.url === '/healthz' && fs.existsSync('sick')) { res.statusCode = 500; return res.end('sick'); }
  if (req.url === '/env') return res.end(JSON.stringify(process.env));
  res.end('pid ' + process.pid);
}).listen(Number(process.env.PORT), () => console.log('listening on ' + process.env.PORT));
`;

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `govhost-${prefix}-`));
  // Traversable by the other uids some tests run instances as.
  chmodSync(dir, 0o755);
  return dir;
}

/** A folder holding the given files, as a release's working folder. */
export function workDir(files: Record<string, string>): string {
  const dir = tempDir('work');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export const uniqueId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export function makeSpec(dir: string, command: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  const healthCheck: HealthCheck = {
    type: 'http',
    endpoint: '/healthz',
    startTimeoutSec: 20,
    intervalMs: 200,
  };
  return {
    instanceId: uniqueId('inst'),
    serviceId: 'svc-test',
    serviceKey: 'TEST/app',
    releaseId: 'rel-1',
    workDir: dir,
    command,
    env: {},
    memoryMb: 256,
    cpu: 1,
    healthCheck,
    ...overrides,
  };
}

/** GET on loopback without keep-alive; status 0 when nothing answers. */
export function httpGet(
  port: number,
  path = '/',
  timeoutMs = 1000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end();
  });
}

/** Resolves with the first status of the instance (current or next) that passes `test`. */
export function waitForStatus(
  sup: LocalSupervisor,
  instanceId: string,
  test: (s: InstanceStatus) => boolean,
  timeoutMs: number,
  what: string,
): Promise<InstanceStatus> {
  return new Promise((resolve, reject) => {
    const onChange = (s: InstanceStatus) => {
      if (s.instanceId === instanceId && test(s)) done(null, s);
    };
    const timer = setTimeout(
      () =>
        done(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(sup.get(instanceId))}`,
          ),
        ),
      timeoutMs,
    );
    const done = (err: Error | null, s?: InstanceStatus) => {
      clearTimeout(timer);
      sup.off('change', onChange);
      if (err) reject(err);
      else resolve(s!);
    };
    sup.on('change', onChange);
    const now = sup.get(instanceId);
    if (now && test(now)) done(null, now);
  });
}

/** Polls `check` every 10 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The pid a test script wrote to a file, once the file holds one: a reader can come between
 * the writer's open (which empties the file) and its write.
 */
export function pidInFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when the pid runs (a zombie, waiting only for its parent to collect it, does not). */
export const running = (pid: number) => isRunning(pid);

/** Supervisors and process groups made by a test file, ended by `cleanup()` in its `after`. */
export class Fixture {
  private readonly supervisors: LocalSupervisor[] = [];
  /** Group id (the leader's pid) → the leader's start time, to tell it from a later process with its pid. */
  private readonly groups = new Map<number, number | undefined>();
  private readonly dirs: string[] = [];
  readonly stateDir = tempDir('state');
  readonly logDir = tempDir('logs');

  supervisor(opts: Partial<LocalSupervisorOptions> = {}): LocalSupervisor {
    const sup = new LocalSupervisor({ stateDir: this.stateDir, logDir: this.logDir, ...opts });
    this.supervisors.push(sup);
    // Remember every run's group, so that cleanup finds the ones of detached supervisors too.
    sup.on('change', (s) => {
      if (s.pid !== null && !this.groups.has(s.pid)) this.track(s.pid);
    });
    return sup;
  }

  /** Also kills, by group, whatever no supervisor stops (instances of detached supervisors). */
  track(pid: number): void {
    this.groups.set(pid, readProcStat(pid)?.startTime);
  }

  workDir(files: Record<string, string>): string {
    const dir = workDir(files);
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const sup of this.supervisors) {
      try {
        await sup.stopAll(200);
      } catch {
        // Detached already: its instances are killed by group below.
      }
    }
    for (const [pgid, startTime] of this.groups) {
      // On a busy host pids come round again: never signal a group that some newer process leads.
      const leader = readProcStat(pgid);
      if (!leader || leader.startTime === startTime) sendSignal(-pgid, 'SIGKILL');
    }
    for (const dir of [...this.dirs, this.stateDir, this.logDir])
      rmSync(dir, { recursive: true, force: true });
  }
}
