import type { Priority } from './ticket.tables.ts';

export interface TargetDefault {
  priority: Priority;
  tier: 'gold' | 'silver' | 'bronze';
  responseMinutes: number;
  resolutionMinutes: number;
  hours: '24x7' | 'business';
}

const H = 60;
/**
 * The targets a new platform starts with (0035 writes them; operators change them after). Gold
 * services are answered around the clock; silver and bronze in business hours (9 h a day), so
 * "1 day" there is 9 business hours.
 */
const GOLD = { P1: [15, 4 * H], P2: [30, 8 * H], P3: [2 * H, 24 * H], P4: [8 * H, 72 * H] } as const;
const SILVER = { P1: [30, 9 * H], P2: [H, 18 * H], P3: [4 * H, 27 * H], P4: [9 * H, 45 * H] } as const;
const BRONZE = { P1: [H, 18 * H], P2: [2 * H, 27 * H], P3: [9 * H, 45 * H], P4: [18 * H, 90 * H] } as const;

export const DEFAULT_TARGETS: TargetDefault[] = (
  [
    ['gold', GOLD, '24x7'],
    ['silver', SILVER, 'business'],
    ['bronze', BRONZE, 'business'],
  ] as const
).flatMap(([tier, table, hours]) =>
  (['P1', 'P2', 'P3', 'P4'] as const).map((priority) => ({
    priority,
    tier,
    responseMinutes: table[priority][0],
    resolutionMinutes: table[priority][1],
    hours,
  })),
);
