/** Availability each SLA tier promises, in percent of a month. */
export const SLA_TIERS = {
  gold: { target: 99.95 },
  silver: { target: 99.9 },
  bronze: { target: 99.5 },
} as const;

export type SlaTier = keyof typeof SLA_TIERS;
export const SLA_TIER_NAMES = ['gold', 'silver', 'bronze'] as const satisfies readonly SlaTier[];
