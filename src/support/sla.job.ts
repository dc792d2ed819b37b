/**
 * The desk's SLA watch: each round reads the open tickets' clocks and, once per clock, warns at
 * 80 % of a target and marks a breach past it, with a public timeline entry, an audit record and
 * a notification through the department's (and the platform's) channels. A mark is set by a
 * conditional update, so two rounds (or two replicas) never notify the same breach twice.
 */
import { recordChange } from '../audit/audit.logic.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { repeatEvery } from '../platform/repeat.ts';
import { calendarOf, clocksOf, targetsByKey } from './sla.logic.ts';
import { notifyPublic } from './ticket.logic.ts';
import * as repo from './ticket.repository.ts';

type Mark = 'response_warned_at' | 'response_breached_at' | 'resolution_warned_at' | 'resolution_breached_at';
const SYSTEM = { actorId: null, actorName: 'govhost', requestId: null };

/** One round at `now`; returns the marks it set. */
export async function checkSla(
  deps: { db: Db; config: Pick<Config, 'supportHours' | 'supportHolidays' | 'smtpUrl'> },
  now = new Date(),
): Promise<{ ticket: number; mark: Mark }[]> {
  const { db } = deps;
  const tickets = await repo.allOpen(db);
  if (tickets.length === 0) return [];
  const targets = await targetsByKey(db);
  const events = await repo.eventsOf(
    db,
    tickets.map((t) => t.id),
    false,
  );
  const cal = calendarOf(deps.config);
  const set: { ticket: number; mark: Mark }[] = [];
  for (const t of tickets) {
    const clocks = clocksOf(
      t,
      events.filter((e) => Number(e.ticket_id) === Number(t.id)),
      targets.get(`${t.priority}/${t.sla_tier}`),
      cal,
      now,
    );
    if (!clocks) continue;
    const due: [Mark, string][] = [];
    for (const which of ['response', 'resolution'] as const) {
      const c = clocks[which];
      if (c.state === 'met') continue;
      if (c.state === 'breached' && !t[`${which}_breached_at`])
        due.push([
          `${which}_breached_at`,
          `${which} target of ${c.targetMinutes} min breached (${c.elapsedMinutes} min)`,
        ]);
      else if (c.near && c.state !== 'breached' && !t[`${which}_warned_at`])
        due.push([
          `${which}_warned_at`,
          `${which} at ${c.elapsedMinutes} of ${c.targetMinutes} min: near its target`,
        ]);
    }
    for (const [mark, message] of due) {
      await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('tickets')
          .set({ [mark]: now })
          .where('id', '=', t.id)
          .where(mark, 'is', null)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return; // another round got there first
        await repo.insertEvent(trx, {
          ticket_id: t.id,
          kind: 'sla',
          internal: false,
          by_name: 'govhost',
          body: message,
        });
        await recordChange(trx, SYSTEM, {
          action: `ticket.sla-${mark.endsWith('breached_at') ? 'breach' : 'warning'}`,
          targetType: 'ticket',
          targetId: String(t.id),
          departmentId: t.department_id,
          after: { [mark]: now.toISOString(), message },
        });
        await notifyPublic(
          trx,
          deps.config,
          t,
          mark.endsWith('breached_at') ? 'ticket.sla-breach' : 'ticket.sla-warning',
          `Ticket #${t.id}: ${message}`,
        );
        set.push({ ticket: Number(t.id), mark });
      });
    }
  }
  return set;
}

/** Runs the watch every `supportCheckSeconds` until stopped (on the runtime lease's holder only). */
export function startSlaWatch(
  config: Config,
  db: Db,
  log: { error(obj: object, msg: string): void },
): { stop(): Promise<void> } {
  return repeatEvery(() => checkSla({ db, config }), {
    everyMs: config.supportCheckSeconds * 1000,
    what: 'support SLA check',
    log,
  });
}
