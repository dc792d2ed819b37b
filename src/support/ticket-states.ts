import type { TicketStatus } from './ticket.tables.ts';

/**
 * Where a ticket may go from each status: the one table every move is checked against. A
 * resolved ticket reopens to in-progress (within GOVHOST_SUPPORT_REOPEN_DAYS of its resolution), or is closed.
 */
export const TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  new: ['acknowledged', 'in-progress', 'waiting-on-department', 'resolved'],
  acknowledged: ['in-progress', 'waiting-on-department', 'resolved'],
  'in-progress': ['waiting-on-department', 'resolved'],
  'waiting-on-department': ['in-progress', 'resolved'],
  resolved: ['in-progress', 'closed'],
  closed: [],
};

/**
 * The moves a department may make on its own ticket (the rest are the desk's): answer a question
 * put to it (back to in-progress), reopen a resolution it does not accept, or close it.
 */
export const DEPARTMENT_MOVES: ReadonlySet<string> = new Set([
  'waiting-on-department>in-progress',
  'resolved>in-progress',
  'resolved>closed',
]);

/** Statuses in which no SLA clock runs: the department has the ball, or the desk has answered. */
export const PAUSED: ReadonlySet<TicketStatus> = new Set(['waiting-on-department', 'resolved', 'closed']);

export const isOpen = (s: TicketStatus) => s !== 'resolved' && s !== 'closed';
