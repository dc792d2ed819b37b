import type { ItemState } from './migration.tables.ts';

/**
 * Where an item may go from each state: the one table every move is checked against (decision
 * 034). Forward one step at a time; back one step where real programmes fall back (a failed
 * parallel run goes back to migrating; a cut-over that misbehaves goes back to parallel-run, the
 * router's instant fallback); `blocked` from any state before cut-over, with a reason.
 * `blocked` resumes only to the state it was blocked from (see `nextStates`).
 */
export const TRANSITIONS: Record<ItemState, readonly ItemState[]> = {
  inventoried: ['assessed', 'blocked'],
  assessed: ['scheduled', 'inventoried', 'blocked'],
  scheduled: ['migrating', 'assessed', 'blocked'],
  migrating: ['parallel-run', 'scheduled', 'blocked'],
  'parallel-run': ['cut-over', 'migrating', 'blocked'],
  'cut-over': ['decommissioned', 'parallel-run'],
  decommissioned: [],
  blocked: [],
};

/** The states an item may move to now; a blocked item only back to where it stood. */
export function nextStates(state: ItemState, blockedFrom: ItemState | null): readonly ItemState[] {
  if (state === 'blocked') return blockedFrom ? [blockedFrom] : [];
  return TRANSITIONS[state];
}

/** Its traffic has left the legacy platform: what the burndown counts as done. */
export const hasLeftLegacy = (state: ItemState): boolean =>
  state === 'cut-over' || state === 'decommissioned';
