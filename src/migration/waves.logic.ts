import { recordChange } from '../audit/audit.logic.ts';
import type { Db } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { invalid } from './migration.logic.ts';
import * as repo from './migration.repository.ts';
import type { ItemState } from './migration.tables.ts';
import type { FieldProblem } from './migration-input.ts';
import { isDay } from './migration-input.ts';

/** A wave as the API shows it: programme-wide, its counts only of the caller's items. */
export interface Wave {
  number: number;
  name: string;
  plannedStart: string;
  plannedEnd: string;
  /** Items of this wave the caller sees, by state. */
  items: number;
  byState: Partial<Record<ItemState, number>>;
}

/** Every wave, with the caller's items in it counted by state. */
export async function listWaves(db: Db, caller: Principal): Promise<Wave[]> {
  authorize(caller, 'service:read');
  const items = await repo.all(db, departmentScope(caller));
  return (await repo.listWaves(db)).map((w) => {
    const mine = items.filter((i) => i.wave_id === w.id);
    const byState: Wave['byState'] = {};
    for (const i of mine) byState[i.state] = (byState[i.state] ?? 0) + 1;
    return {
      number: w.number,
      name: w.name,
      plannedStart: w.planned_start,
      plannedEnd: w.planned_end,
      items: mine.length,
      byState,
    };
  });
}

/** Creates wave `number` or changes its name and dates (operators). */
export async function setWave(
  db: Db,
  caller: Caller,
  number: number,
  input: { name: string; plannedStart: string; plannedEnd: string },
): Promise<{ wave: Wave; created: boolean }> {
  authorize(caller, 'migration:plan');
  const problems: FieldProblem[] = [];
  for (const f of ['plannedStart', 'plannedEnd'] as const)
    if (!isDay(input[f]))
      problems.push({ field: f, message: `${JSON.stringify(input[f])} is not a day written YYYY-MM-DD` });
  if (!input.name.trim()) problems.push({ field: 'name', message: 'must not be blank' });
  if (!problems.length && input.plannedEnd < input.plannedStart)
    problems.push({
      field: 'plannedEnd',
      message: `${input.plannedEnd} is before plannedStart ${input.plannedStart}`,
    });
  if (problems.length) throw invalid(problems);
  const values = {
    name: input.name.trim(),
    planned_start: input.plannedStart,
    planned_end: input.plannedEnd,
  };
  const created = await db
    .transaction()
    .execute(async (trx) => {
      const before = await repo.findWave(trx, number);
      if (before) {
        const outside = (await repo.all(trx, null, { waveId: before.id })).filter(
          (i) => i.planned_on && (i.planned_on < values.planned_start || i.planned_on > values.planned_end),
        );
        if (outside.length)
          throw invalid([
            {
              field: 'plannedStart',
              message: `${outside.length} item(s) of wave ${number} are planned outside ${values.planned_start} to ${values.planned_end}, e.g. ${outside[0]?.ref} on ${outside[0]?.planned_on}`,
            },
          ]);
        await repo.updateWave(trx, before.id, values);
      } else await repo.insertWave(trx, { number, ...values });
      await recordChange(trx, auditContext(caller), {
        action: before ? 'migration-wave.update' : 'migration-wave.create',
        targetType: 'migration-wave',
        targetId: String(number),
        departmentId: null,
        before: before
          ? { name: before.name, plannedStart: before.planned_start, plannedEnd: before.planned_end }
          : undefined,
        after: input,
      });
      return !before;
    })
    .catch((err: unknown) => {
      // Another request created the same wave between the read and the insert.
      if (isUniqueViolation(err))
        throw new DomainError(
          'GOVHOST_MIGRATION_WAVE_EXISTS',
          `wave ${number} was created meanwhile: try again`,
        );
      throw err;
    });
  const wave = (await listWaves(db, caller)).find((w) => w.number === number) as Wave;
  return { wave, created };
}
