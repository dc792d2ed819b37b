import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { PlannedDemandTable } from './demand.tables.ts';

export type DemandRow = Selectable<PlannedDemandTable>;

export interface DemandFilter {
  scenario?: string;
  kind?: PlannedDemandTable['kind'];
  departmentId?: string;
}

function filtered(db: Executor, f: DemandFilter) {
  let q = db.selectFrom('planned_demand');
  if (f.scenario !== undefined) q = q.where('scenario', '=', f.scenario);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.departmentId) q = q.where('department_id', '=', f.departmentId);
  return q;
}

export async function list(db: Executor, f: DemandFilter, page: { limit: number; offset: number }) {
  const items = await filtered(db, f)
    .selectAll()
    .orderBy('go_live')
    .orderBy('created_at')
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const { n } = await filtered(db, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items, total: Number(n) };
}

/** The baseline lines, and those of `scenario` when one is named. */
export async function forForecast(db: Executor, scenario: string | null): Promise<DemandRow[]> {
  return db
    .selectFrom('planned_demand')
    .selectAll()
    .where((eb) =>
      scenario === null
        ? eb('scenario', 'is', null)
        : eb.or([eb('scenario', 'is', null), eb('scenario', '=', scenario)]),
    )
    .orderBy('go_live')
    .execute();
}

export async function scenarioExists(db: Executor, scenario: string): Promise<boolean> {
  return !!(await db
    .selectFrom('planned_demand')
    .select('id')
    .where('scenario', '=', scenario)
    .executeTakeFirst());
}

export async function findById(db: Executor, id: string) {
  return db.selectFrom('planned_demand').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insert(db: Executor, row: Insertable<PlannedDemandTable>): Promise<DemandRow> {
  return db.insertInto('planned_demand').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function remove(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('planned_demand').where('id', '=', id).execute();
}

export async function removeBySource(db: Executor, sourceId: string): Promise<number> {
  const r = await db.deleteFrom('planned_demand').where('source_id', '=', sourceId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
