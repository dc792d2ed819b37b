/** The `local` runtime driver's supervisor; see supervisor.ts. */
export type { LocalSupervisorOptions, SupervisorLogger } from './local.types.ts';
export { LocalSupervisor } from './supervisor.ts';
export { InstanceStartError, type StartFailure } from './wait-healthy.ts';
