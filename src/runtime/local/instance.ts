/**
 * One supervised instance: its runs (a spawned or adopted process), its state from health
 * checks, and restarts after it exits on its own. The supervisor owns the collection; this owns
 * what happens to one.
 */
import type { ChildProcess } from 'node:child_process';
import type { InstanceStatus } from '../runtime.types.ts';
import { HealthLoop } from './health-loop.ts';
import { describeExit, InstanceBase, now } from './instance-base.ts';
import type { InstanceRecord } from './instance-record.ts';
import { noteInLog } from './log-files.ts';
import { isRunning, readProcStat, sendSignal } from './process-tree.ts';
import { RestartPolicy } from './restart-policy.ts';
import { spawnInstance } from './spawn-instance.ts';
import { terminateRun } from './terminate.ts';

/** How often to look whether an adopted process (not our child: no exit event) still runs. */
const ADOPTED_POLL_MS = 200;

export class SupervisedInstance extends InstanceBase {
  /** Numbers the runs, so that an event of an earlier run is recognised and dropped. */
  private run = 0;
  private child: ChildProcess | null = null;
  private restartTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Set by stop() and detach(): from then on nothing restarts. */
  private closed = false;
  private stopping: Promise<InstanceStatus> | null = null;
  private readonly policy = new RestartPolicy();
  private readonly health: HealthLoop;

  constructor(...args: ConstructorParameters<typeof InstanceBase>) {
    super(...args);
    this.health = new HealthLoop(this.spec.healthCheck, this.port, () => this.running(), {
      setState: (state) => this.setState(state),
      problem: (reason) => {
        this.lastProblem = reason;
      },
    });
  }

  protected override healthyAt(): string | null {
    return this.health.healthyAt;
  }

  /** Spawns a new run as our child; rejects when the OS refuses to start it. */
  async launch(): Promise<void> {
    const { child, pid, joinError } = await spawnInstance(this.spec, this.port, this.logPath, this.cgroup);
    if (this.closed) {
      // stop() or detach() came while it was spawning: a stop must not leave it behind.
      if (this.stopping) sendSignal(-pid, 'SIGKILL');
      return;
    }
    this.joined = joinError === null;
    if (joinError) this.limits = { memory: false, cpu: false, reason: joinError };
    const run = this.begin(pid, readProcStat(pid)?.startTime ?? 0, now());
    this.child = child;
    child.once('exit', (code, signal) => this.exited(run, code, signal));
    noteInLog(
      this.logPath,
      `started pid ${pid} on port ${this.port}${this.restarts ? `, restart ${this.restarts}` : ''}`,
    );
  }

  /** Takes over a process that a previous supervisor started and that still runs. */
  adopt(record: InstanceRecord): void {
    this.restarts = record.restarts;
    const run = this.begin(record.pid, record.startTime, record.startedAt);
    // Not our child, so no exit event: watch /proc; the start time guards against pid reuse.
    this.pollTimer = setInterval(() => {
      if (!isRunning(record.pid, record.startTime)) this.exited(run, null, null);
    }, ADOPTED_POLL_MS);
    noteInLog(this.logPath, `adopted pid ${record.pid} on port ${this.port} after a control-plane restart`);
  }

  private begin(pid: number, startTime: number, startedAt: string): number {
    this.pid = pid;
    this.startTime = startTime;
    this.startedAt = startedAt;
    this.run++;
    this.health.begin();
    this.setState('starting', true);
    return this.run;
  }

  private exited(run: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (run !== this.run || (this.closed && !this.stopping)) return;
    this.lastExit = { code, signal, at: now() };
    this.exits++;
    if (this.stopping) return; // stop() waits for the whole group and reports.
    const pgid = this.pid;
    const healthySince = this.health.end();
    clearInterval(this.pollTimer);
    this.child = null;
    this.pid = null;
    const how = describeExit(this.lastExit);
    noteInLog(this.logPath, `exited with ${how}`);
    this.ctx.logger.warn({ instanceId: this.spec.instanceId, code, signal }, 'instance exited');
    this.scheduleRestart(pgid, healthySince);
  }

  /** Decides at once, so that the state stops saying `healthy` before any waiting. */
  private scheduleRestart(pgid: number | null, healthySince: number | null): void {
    const decidedAt = Date.now();
    const { delayMs, crashLoop } = this.policy.onCrash(decidedAt, healthySince);
    this.setState(delayMs === 0 ? 'starting' : crashLoop ? 'crash-loop' : 'backoff', true);
    if (delayMs > 0) noteInLog(this.logPath, `restarting in ${delayMs} ms`);
    void this.killLeftovers(pgid).then(() => {
      if (this.closed) return;
      const wait = Math.max(0, decidedAt + delayMs - Date.now());
      this.restartTimer = setTimeout(() => void this.restart(), wait);
    });
  }

  /** Starts again, on the recorded port, an instance whose process died while no supervisor ran. */
  async resume(record: InstanceRecord): Promise<void> {
    this.restarts = record.restarts;
    this.lastExit = { code: null, signal: null, at: now() };
    noteInLog(this.logPath, `pid ${record.pid} ended while the control plane was down`);
    // Its group id may name leftovers only while no other process has taken the old pid.
    await this.killLeftovers(readProcStat(record.pid) === null ? record.pid : null);
    await this.restart();
  }

  private async restart(): Promise<void> {
    if (this.closed) return;
    this.restarts++;
    try {
      await this.launch();
      this.saveInBackground();
    } catch (err) {
      // A run that cannot even start counts as a crash, and backs off like one.
      this.lastProblem = (err as Error).message;
      this.lastExit = { code: null, signal: null, at: now() };
      this.exits++;
      noteInLog(this.logPath, this.lastProblem);
      this.scheduleRestart(null, null);
    }
  }

  /**
   * Processes of the last run that outlived its first process (a server the shell started)
   * would still hold the port the restart needs: kill them and wait until they are gone.
   */
  async killLeftovers(pgid: number | null): Promise<void> {
    const survivors = await terminateRun(this.processes(pgid), 0);
    if (survivors.length)
      this.ctx.logger.error({ instanceId: this.spec.instanceId, survivors }, 'leftovers survive');
  }

  /** SIGTERM to everything of the instance, SIGKILL after `graceMs`; no restart, record removed. */
  stop(graceMs: number): Promise<InstanceStatus> {
    this.stopping ??= this.stopNow(graceMs);
    return this.stopping;
  }

  private async stopNow(graceMs: number): Promise<InstanceStatus> {
    this.closed = true;
    this.health.end();
    clearTimeout(this.restartTimer);
    clearInterval(this.pollTimer);
    const pgid = this.pid;
    this.setState('stopping');
    noteInLog(this.logPath, `stopping (grace ${graceMs} ms)`);
    const survivors = await terminateRun(this.processes(pgid), graceMs, () =>
      noteInLog(this.logPath, `still running after ${graceMs} ms: SIGKILL`),
    );
    if (survivors.length)
      this.ctx.logger.error({ instanceId: this.spec.instanceId, survivors }, 'survived SIGKILL');
    if (this.cgroup && !this.cgroup.remove()) {
      this.ctx.logger.warn(
        { instanceId: this.spec.instanceId, dirs: this.cgroup.dirs },
        'cgroup not removed',
      );
    }
    this.child = null;
    this.pid = null;
    this.memoryBytes = null;
    await this.ctx.records.remove(this.spec.instanceId);
    noteInLog(this.logPath, 'stopped');
    this.setState('stopped');
    return this.status();
  }

  /** Stops watching without touching the process: it keeps running for a later supervisor. */
  detach(): void {
    this.closed = true;
    this.health.end();
    clearTimeout(this.restartTimer);
    clearInterval(this.pollTimer);
    this.child?.removeAllListeners('exit');
    this.child = null;
  }
}
