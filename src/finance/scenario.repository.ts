import type { Executor } from '../platform/database.ts';
import type { CostModel } from './cost-model.ts';

/** Scenarios are the central team's, not a department's: no department filter applies. */
export const listScenarios = (db: Executor) =>
  db.selectFrom('finance_scenarios').selectAll().orderBy('name').execute();

export const findScenario = (db: Executor, name: string) =>
  db.selectFrom('finance_scenarios').selectAll().where('name', '=', name).executeTakeFirst();

export const insertScenario = (
  db: Executor,
  row: { name: string; description: string; basedOn: string; model: CostModel; by: string },
) =>
  db
    .insertInto('finance_scenarios')
    .values({
      name: row.name,
      description: row.description,
      based_on: row.basedOn,
      model: JSON.stringify(row.model),
      updated_by: row.by,
    })
    .execute();

export const updateScenario = (
  db: Executor,
  name: string,
  row: { description: string; model: CostModel; by: string },
) =>
  db
    .updateTable('finance_scenarios')
    .set({
      description: row.description,
      model: JSON.stringify(row.model),
      updated_by: row.by,
      updated_at: new Date(),
    })
    .where('name', '=', name)
    .execute();

export const deleteScenario = (db: Executor, name: string) =>
  db.deleteFrom('finance_scenarios').where('name', '=', name).executeTakeFirst();
