import type { ServiceState } from './monitoring.types.ts';

/** What the status page needs from the monitoring engine: each watched service's last probe state. */
export interface ProbeStates {
  /** Undefined: the engine has not probed this service (not watched, or not yet). */
  stateOf(serviceId: string): ServiceState | undefined;
}
