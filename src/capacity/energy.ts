import type { FarmState } from './capacity.tables.ts';
import { monthBounds } from './month.ts';

/** Power at a utilisation, linear between idle and full-load draw (utilisation held to 0…1). */
export function farmPower(idleWatts: number, maxWatts: number, utilisation: number): number {
  const u = Math.min(1, Math.max(0, utilisation));
  return idleWatts + (maxWatts - idleWatts) * u;
}

/**
 * Hours a farm ran in `month`, up to `now`: from its start (or all along for an active farm with
 * no recorded start) to its retirement. Planned and ordered farms draw nothing yet.
 */
export function hoursInService(
  farm: { state: FarmState; activeFrom: string | null; retiredOn: string | null },
  month: string,
  now: Date,
): number {
  if (farm.state === 'planned' || farm.state === 'ordered') return 0;
  if (farm.state === 'retired' && !farm.retiredOn) return 0;
  const { start, end } = monthBounds(month);
  const from = Math.max(
    start.getTime(),
    farm.activeFrom ? Date.parse(`${farm.activeFrom}T00:00:00Z`) : -Infinity,
  );
  const to = Math.min(
    end.getTime(),
    now.getTime(),
    farm.retiredOn ? Date.parse(`${farm.retiredOn}T00:00:00Z`) : Infinity,
  );
  return Math.max(0, (to - from) / 3_600_000);
}

export interface EnergyShare<K> {
  key: K;
  cpu: number;
}

/**
 * A farm's energy for the month, and each holder's part of it by its share of the farm's CPU.
 * `basis` says whether the CPU figures are measured use or reservations.
 */
export function farmEnergy<K>(
  farm: { vcpu: number; idleWatts: number; maxWatts: number },
  hours: number,
  holders: EnergyShare<K>[],
) {
  const cpu = holders.reduce((s, h) => s + h.cpu, 0);
  const utilisation = Math.min(1, cpu / farm.vcpu);
  const watts = farmPower(farm.idleWatts, farm.maxWatts, utilisation);
  const kWh = (watts * hours) / 1000;
  return {
    utilisation,
    watts,
    kWh,
    shares: holders.map((h) => ({
      key: h.key,
      cpu: h.cpu,
      share: cpu > 0 ? h.cpu / cpu : 0,
      kWh: cpu > 0 ? (kWh * h.cpu) / cpu : 0,
    })),
  };
}
