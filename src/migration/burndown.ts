import type { Db } from '../platform/database.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import { authorize, departmentScope, type Principal } from '../tenancy/principal.ts';
import * as repo from './migration.repository.ts';
import { hasLeftLegacy } from './migration-states.ts';

/** One month of a burndown: items still on the legacy platform at its end, planned and actual. */
export interface BurndownMonth {
  month: string;
  plannedRemaining: number;
  /** null for months after the current one: nothing has happened there yet. */
  actualRemaining: number | null;
}

export interface Burndown {
  total: number;
  remaining: number;
  months: BurndownMonth[];
}

/** An item as the burndown sees it: when it is planned to leave, and when it did. */
export interface BurndownItem {
  department: string;
  wave: number | null;
  /** YYYY-MM of the planned cut-over (the item's day, else its wave's end); null: not planned. */
  plannedMonth: string | null;
  /** YYYY-MM of its cut-over, while it stays cut over; null: still on the legacy platform. */
  leftMonth: string | null;
}

const nextMonth = (m: string) => {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
};

/** Month by month from the first planned or actual month to the last: remaining, planned and actual. */
export function burndownOf(items: BurndownItem[], thisMonth: string): Burndown {
  const marks = items
    .flatMap((i) => [i.plannedMonth, i.leftMonth])
    .filter((m): m is string => m !== null)
    .sort();
  const months: BurndownMonth[] = [];
  const first = marks[0];
  const last = marks[marks.length - 1];
  if (first && last) {
    for (let m = first; m <= last; m = nextMonth(m)) {
      months.push({
        month: m,
        plannedRemaining: items.filter((i) => i.plannedMonth === null || i.plannedMonth > m).length,
        actualRemaining:
          m > thisMonth ? null : items.filter((i) => i.leftMonth === null || i.leftMonth > m).length,
      });
    }
  }
  return { total: items.length, remaining: items.filter((i) => i.leftMonth === null).length, months };
}

/** When each department's last legacy service is planned to leave, and when it did. */
export function departmentsLeaving(items: BurndownItem[]) {
  const codes = [...new Set(items.map((i) => i.department))].sort();
  return codes.map((department) => {
    const mine = items.filter((i) => i.department === department);
    const remaining = mine.filter((i) => i.leftMonth === null).length;
    const planned = mine.map((i) => i.plannedMonth);
    return {
      department,
      items: mine.length,
      remaining,
      /** null when an item has no planned month yet: the last one cannot be said. */
      plannedLastMonth: planned.includes(null) ? null : ((planned as string[]).sort().at(-1) ?? null),
      /** The month its last item left; null while one is still on the legacy platform. */
      actualLastMonth:
        remaining > 0
          ? null
          : (mine
              .map((i) => i.leftMonth as string)
              .sort()
              .at(-1) ?? null),
    };
  });
}

/**
 * The programme's burndown as the caller sees it (a department: its own items), overall, per
 * wave and per department; `department` narrows it for platform users.
 */
export async function programmeBurndown(
  db: Db,
  caller: Principal,
  opts: { department?: string; now?: Date } = {},
) {
  authorize(caller, 'service:read');
  const departmentId = opts.department
    ? (await resolveDepartment(db, caller, opts.department)).id
    : undefined;
  const waves = await repo.listWaves(db);
  const rows = await repo.all(db, departmentScope(caller), { departmentId });
  const endOf = new Map(waves.map((w) => [w.id, w.planned_end]));
  const items: BurndownItem[] = rows.map((r) => ({
    department: r.department_code,
    wave: r.wave_number,
    plannedMonth: (r.planned_on ?? (r.wave_id ? endOf.get(r.wave_id) : null) ?? null)?.slice(0, 7) ?? null,
    leftMonth: hasLeftLegacy(r.state) && r.cut_over_at ? r.cut_over_at.toISOString().slice(0, 7) : null,
  }));
  const thisMonth = (opts.now ?? new Date()).toISOString().slice(0, 7);
  const byState: Record<string, number> = {};
  for (const r of rows) byState[r.state] = (byState[r.state] ?? 0) + 1;
  return {
    asOf: thisMonth,
    byState,
    overall: burndownOf(items, thisMonth),
    waves: waves.map((w) => ({
      number: w.number,
      name: w.name,
      plannedStart: w.planned_start,
      plannedEnd: w.planned_end,
      ...burndownOf(
        items.filter((i) => i.wave === w.number),
        thisMonth,
      ),
    })),
    departments: departmentsLeaving(items),
  };
}
