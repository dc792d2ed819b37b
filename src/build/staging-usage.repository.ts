import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';

/**
 * Staging time, as finance meters it (decision 046): one row per staging that ran, written by the
 * stager when it ends. Finance reads it through these functions, never the table.
 */

export interface StagingRun {
  releaseId: string;
  serviceId: string;
  departmentId: string;
  outcome: 'staged' | 'failed';
  startedAt: Date;
  finishedAt: Date;
}

/** Records a staging that ran; its seconds are the wall time from start to end, to the millisecond. */
export async function recordStaging(db: Executor, run: StagingRun): Promise<void> {
  await db
    .insertInto('staging_usage')
    .values({
      release_id: run.releaseId,
      service_id: run.serviceId,
      department_id: run.departmentId,
      outcome: run.outcome,
      seconds: Math.max(0, run.finishedAt.getTime() - run.startedAt.getTime()) / 1000,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
    })
    .execute();
}

/**
 * A department's charged staging seconds (stagings that made a droplet) by service and UTC day
 * of their end, for stagings that ended in [from, to).
 */
export async function stagedSecondsByDay(
  db: Executor,
  departmentId: string,
  from: Date,
  to: Date,
): Promise<{ serviceId: string; day: string; seconds: number }[]> {
  const day = sql<string>`to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await db
    .selectFrom('staging_usage')
    .select(['service_id', day.as('day'), sql<string>`sum(seconds)`.as('seconds')])
    .where('department_id', '=', departmentId)
    .where('outcome', '=', 'staged')
    .where('finished_at', '>=', from)
    .where('finished_at', '<', to)
    .groupBy(['service_id', day])
    .orderBy('service_id')
    .orderBy(day)
    .execute();
  return rows.map((r) => ({ serviceId: r.service_id, day: r.day, seconds: Number(r.seconds) }));
}

/** Departments with charged staging in [from, to): a month's close keeps their statements too. */
export async function departmentsStaging(db: Executor, from: Date, to: Date): Promise<string[]> {
  const rows = await db
    .selectFrom('staging_usage')
    .select('department_id')
    .distinct()
    .where('outcome', '=', 'staged')
    .where('finished_at', '>=', from)
    .where('finished_at', '<', to)
    .execute();
  return rows.map((r) => r.department_id);
}
