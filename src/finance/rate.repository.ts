import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { RateResource } from './rate.tables.ts';

export interface Rate {
  resource: RateResource;
  validFrom: string;
  centsPerUnit: number;
  note: string;
  createdBy: string;
}

/** The whole rate card (the platform's, not a department's), oldest first. */
export async function listRates(db: Executor): Promise<Rate[]> {
  const rows = await db
    .selectFrom('finance_rates')
    .select([
      'resource',
      sql<string>`to_char(valid_from, 'YYYY-MM-DD')`.as('valid_from'),
      'cents_per_unit',
      'note',
      'created_by',
    ])
    .orderBy('resource')
    .orderBy('valid_from')
    .execute();
  return rows.map((r) => ({
    resource: r.resource,
    validFrom: r.valid_from,
    centsPerUnit: Number(r.cents_per_unit),
    note: r.note,
    createdBy: r.created_by,
  }));
}

export const insertRate = (db: Executor, r: Omit<Rate, 'createdBy'> & { by: string }) =>
  db
    .insertInto('finance_rates')
    .values({
      resource: r.resource,
      valid_from: r.validFrom,
      cents_per_unit: r.centsPerUnit,
      note: r.note,
      created_by: r.by,
    })
    .execute();
