import type { Insertable } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { SlaTargetTable } from './ticket.tables.ts';

/** The SLA targets: the central team's table, the same for every department. */
export const listTargets = (db: Executor) =>
  db.selectFrom('sla_targets').selectAll().orderBy('tier').orderBy('priority').execute();

export const findTarget = (db: Executor, priority: string, tier: string) =>
  db
    .selectFrom('sla_targets')
    .selectAll()
    .where('priority', '=', priority as SlaTargetTable['priority'])
    .where('tier', '=', tier)
    .executeTakeFirst();

export async function upsertTarget(db: Executor, row: Insertable<SlaTargetTable>): Promise<void> {
  await db
    .insertInto('sla_targets')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['priority', 'tier']).doUpdateSet({
        response_minutes: row.response_minutes,
        resolution_minutes: row.resolution_minutes,
        hours: row.hours,
        updated_by: row.updated_by,
        updated_at: new Date(),
      }),
    )
    .execute();
}
