/**
 * Checks an InstanceSpec before anything touches the host: the instance id becomes a file
 * name and a cgroup folder name, so it must not be able to climb out of either folder.
 */
import { isAbsolute } from 'node:path';
import type { InstanceSpec } from '../runtime.types.ts';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CHECK_TYPES = new Set(['http', 'port', 'process']);

/** Throws an Error that names the first wrong field. */
export function validateSpec(spec: InstanceSpec): void {
  const fail = (field: string, why: string): never => {
    throw new Error(`instance spec: ${field} ${why}`);
  };
  if (!ID.test(spec.instanceId ?? '')) fail('instanceId', 'must be 1-128 letters, digits, ".", "_" or "-"');
  if (!spec.workDir || !isAbsolute(spec.workDir)) fail('workDir', 'must be an absolute path');
  if (!spec.command?.trim()) fail('command', 'must not be empty');
  if (!(Number.isInteger(spec.memoryMb) && spec.memoryMb > 0)) fail('memoryMb', 'must be a positive integer');
  if (!(spec.cpu > 0)) fail('cpu', 'must be a positive number');
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (typeof value !== 'string' || key.includes('=') || key.includes('\0'))
      fail(`env.${key}`, 'is not valid');
  }
  const hc = spec.healthCheck;
  if (!hc || !CHECK_TYPES.has(hc.type)) fail('healthCheck.type', 'must be http, port or process');
  if (!(hc.startTimeoutSec > 0)) fail('healthCheck.startTimeoutSec', 'must be positive');
  if (!(hc.intervalMs >= 10)) fail('healthCheck.intervalMs', 'must be at least 10');
  for (const field of ['uid', 'gid'] as const) {
    const v = spec[field];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) fail(field, 'must be a non-negative integer');
  }
}
