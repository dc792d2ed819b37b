/**
 * Waiting for an instance to pass its first health check, as a rolling deploy does before it
 * moves on. A failure says why in words an operator can act on, with the log's last lines.
 */
import type { EventEmitter } from 'node:events';
import type { InstanceStatus } from '../runtime.types.ts';
import type { SupervisedInstance } from './instance.ts';
import { describeExit } from './instance-base.ts';

/** Log lines appended to a failure message. */
export const FAILURE_LOG_LINES = 10;

export type StartFailure = 'exited' | 'timeout' | 'stopped';

export class InstanceStartError extends Error {
  constructor(
    message: string,
    readonly instanceId: string,
    readonly reason: StartFailure,
    /** The last lines of the instance's log when it failed. */
    readonly logTail: string[],
  ) {
    super(message);
    this.name = 'InstanceStartError';
  }
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/**
 * Resolves with the status once the instance is healthy. Rejects when it exits (or is already
 * waiting to restart after an exit), is stopped, or is not healthy within `timeoutMs`.
 */
export function waitForHealthy(
  events: EventEmitter<{ change: [InstanceStatus] }>,
  instance: SupervisedInstance,
  timeoutMs: number,
  readTail: (lines: number) => Promise<string[]>,
): Promise<InstanceStatus> {
  const { instanceId, serviceKey } = instance.spec;
  // An exit before this call (one it recovered from) is not a reason to fail; one after it is.
  const exitsAtCall = instance.exits;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (failure?: { reason: StartFailure; text: string }) => {
      if (done) return;
      done = true;
      events.off('change', onChange);
      clearTimeout(timer);
      if (!failure) return resolve(instance.status());
      const fail = (lines: string[]) => {
        const log = lines.length
          ? `\nlast log lines:\n${lines.map((l) => `  ${l}`).join('\n')}`
          : '\n(the log is empty)';
        const message = `instance ${instanceId} (${serviceKey}) ${failure.text}${log}`;
        reject(new InstanceStartError(message, instanceId, failure.reason, lines));
      };
      readTail(FAILURE_LOG_LINES).then(fail, () => fail([]));
    };
    const evaluate = () => {
      const { state, lastExit } = instance;
      if (state === 'healthy') return finish();
      if (state === 'stopping' || state === 'stopped') {
        return finish({ reason: 'stopped', text: 'was stopped before it was healthy' });
      }
      if (lastExit && (instance.exits > exitsAtCall || state === 'backoff' || state === 'crash-loop')) {
        const problem = lastExit.code === null && lastExit.signal === null && instance.lastProblem;
        const how = problem ? `could not run: ${problem}` : `exited with ${describeExit(lastExit)}`;
        return finish({ reason: 'exited', text: `${how} before it was healthy` });
      }
    };
    const onChange = (status: InstanceStatus) => {
      if (status.instanceId === instanceId) evaluate();
    };
    const timer = setTimeout(() => {
      const last = instance.lastProblem ? ` (last check: ${instance.lastProblem})` : '';
      finish({ reason: 'timeout', text: `was not healthy within ${seconds(timeoutMs)}${last}` });
    }, timeoutMs);
    events.on('change', onChange);
    evaluate();
  });
}
