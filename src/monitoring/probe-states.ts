import type { EventEmitter } from 'node:events';
import type { MonitoringEvents, ServiceState } from './monitoring.types.ts';

/** What the status page needs from the monitoring engine: each watched service's last probe state. */
export interface ProbeStates {
  /** Undefined: the engine has not probed this service (not watched, or not yet). */
  stateOf(serviceId: string): ServiceState | undefined;
}

/**
 * Keeps the last state of every service from the engine's snapshots, so the status page can say
 * "no data" for a service nobody has probed instead of calling it operational.
 */
export class ProbeStateBoard implements ProbeStates {
  private readonly states = new Map<string, ServiceState>();
  private readonly onSnapshot = (s: MonitoringEvents['snapshot'][0]) => this.states.set(s.serviceId, s.state);
  private readonly onUnwatched = (u: MonitoringEvents['unwatched'][0]) => this.states.delete(u.serviceId);

  constructor(private readonly events: EventEmitter<MonitoringEvents>) {
    events.on('snapshot', this.onSnapshot);
    events.on('unwatched', this.onUnwatched);
  }

  stateOf(serviceId: string): ServiceState | undefined {
    return this.states.get(serviceId);
  }

  close(): void {
    this.events.off('snapshot', this.onSnapshot);
    this.events.off('unwatched', this.onUnwatched);
  }
}
