import { recordChange } from '../audit/audit.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import * as repo from './migration.repository.ts';
import type { ItemState } from './migration.tables.ts';
import { type FieldProblem, type ItemInput, type PreparedItem, prepareItem } from './migration-input.ts';
import { nextStates } from './migration-states.ts';

/** A migration item as the API shows it. */
export interface Item {
  /** `DEPT/ref`: how the API, the CLI and the console name an item. */
  id: string;
  department: string;
  ref: string;
  name: string;
  sourcePlatform: string;
  legacyUrl: string | null;
  contacts: string[];
  technology: string | null;
  dataSizeGb: number | null;
  complexity: string | null;
  targetService: string | null;
  wave: number | null;
  plannedOn: string | null;
  state: ItemState;
  blockedReason: string | null;
  blockedFrom: ItemState | null;
  /** Where it may move now (from the one transition table). */
  nextStates: ItemState[];
  cutOverAt: string | null;
  stateChangedAt: string;
  dependsOn: { item: string; state: ItemState }[];
}

export const presentItem = (r: repo.ItemRow, deps: Item['dependsOn'] = []): Item => ({
  id: `${r.department_code}/${r.ref}`,
  department: r.department_code,
  ref: r.ref,
  name: r.name,
  sourcePlatform: r.source_platform,
  legacyUrl: r.legacy_url,
  contacts: r.contacts,
  technology: r.technology,
  dataSizeGb: r.data_size_gb === null ? null : Number(r.data_size_gb),
  complexity: r.complexity,
  targetService: r.target_slug ? `${r.department_code}/${r.target_slug}` : null,
  wave: r.wave_number,
  plannedOn: r.planned_on,
  state: r.state,
  blockedReason: r.blocked_reason,
  blockedFrom: r.blocked_from,
  nextStates: [...nextStates(r.state, r.blocked_from)],
  cutOverAt: r.cut_over_at ? r.cut_over_at.toISOString() : null,
  stateChangedAt: r.state_changed_at.toISOString(),
  dependsOn: deps,
});

async function withDependencies(db: Executor, rows: repo.ItemRow[]): Promise<Item[]> {
  const deps = await repo.dependenciesOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) =>
    presentItem(
      r,
      deps
        .filter((d) => d.item_id === r.id)
        .map((d) => ({ item: `${d.department_code}/${d.ref}`, state: d.state as ItemState })),
    ),
  );
}

export const invalid = (problems: FieldProblem[]) =>
  new DomainError('GOVHOST_MIGRATION_INVALID', problems.map((p) => `${p.field} ${p.message}`).join('; '), {
    errors: problems,
  });

export const wavesByNumber = async (db: Executor) =>
  new Map((await repo.listWaves(db)).map((w) => [w.number, w]));

/** The item `DEPT/ref` as the caller may see it, or 404 (also for another department's). */
export async function resolveItem(
  db: Executor,
  caller: Principal,
  department: string,
  ref: string,
  lock = false,
) {
  const dept = await resolveDepartment(db, caller, department);
  const row = await repo.find(db, departmentScope(caller), dept.id, ref, lock);
  if (!row)
    throw new DomainError('GOVHOST_MIGRATION_ITEM_NOT_FOUND', `no migration item ${ref} in ${dept.code}`);
  return row;
}

/** Resolves `DEPT/ref` dependencies within the caller's scope; unknown ones are problems. */
export async function resolveDependencies(db: Executor, caller: Principal, refs: string[]) {
  const ids: string[] = [];
  const problems: FieldProblem[] = [];
  for (const q of refs) {
    const [dept = '', ref = ''] = q.split('/');
    try {
      ids.push((await resolveItem(db, caller, dept, ref)).id);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      problems.push({ field: 'dependsOn', message: `${q}: ${err.message}` });
    }
  }
  return { ids, problems };
}

/** Inserts a prepared item as inventoried, with its first step and audit record. */
export async function insertPrepared(trx: Executor, caller: Caller, p: PreparedItem): Promise<string> {
  const id = await repo.insertItem(trx, { ...p.values, department_id: p.departmentId });
  await repo.insertStep(trx, {
    item_id: id,
    from_state: null,
    to_state: 'inventoried',
    reason: null,
    by_name: caller.username,
  });
  await recordChange(trx, auditContext(caller), {
    action: 'migration-item.create',
    targetType: 'migration-item',
    targetId: `${p.departmentCode}/${p.values.ref}`,
    departmentId: p.departmentId,
    after: { ...p.values, dependsOn: p.dependsOn },
  });
  return id;
}

const exists = (code: string, ref: string) =>
  new DomainError('GOVHOST_MIGRATION_ITEM_EXISTS', `${code} already has a migration item ${ref}`);

/** Adds one item to the inventory (state inventoried). */
export async function createItem(db: Db, caller: Caller, input: ItemInput): Promise<Item> {
  authorize(caller, 'migration:write');
  const { item, problems } = await prepareItem(db, caller, input, await wavesByNumber(db));
  if (!item) throw invalid(problems);
  try {
    return await db.transaction().execute(async (trx) => {
      const deps = await resolveDependencies(trx, caller, item.dependsOn);
      if (deps.problems.length) throw invalid(deps.problems);
      const id = await insertPrepared(trx, caller, item);
      await repo.setDependencies(trx, id, deps.ids);
      const row = await resolveItem(trx, caller, item.departmentCode, item.values.ref);
      return (await withDependencies(trx, [row]))[0] as Item;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw exists(item.departmentCode, item.values.ref);
    throw err;
  }
}

/** Changes an item's details (not its state: see `moveItem`); what is left out stays. */
export async function updateItem(
  db: Db,
  caller: Caller,
  department: string,
  ref: string,
  patch: Partial<Omit<ItemInput, 'department' | 'ref'>>,
): Promise<Item> {
  authorize(caller, 'migration:write');
  return db.transaction().execute(async (trx) => {
    const row = await resolveItem(trx, caller, department, ref, true);
    const before = (await withDependencies(trx, [row]))[0] as Item;
    const merged: ItemInput = {
      department: row.department_code,
      ref: row.ref,
      name: patch.name ?? before.name,
      sourcePlatform: patch.sourcePlatform ?? before.sourcePlatform,
      legacyUrl: patch.legacyUrl === undefined ? before.legacyUrl : patch.legacyUrl,
      contacts: patch.contacts ?? before.contacts,
      technology: patch.technology === undefined ? before.technology : patch.technology,
      dataSizeGb: patch.dataSizeGb === undefined ? before.dataSizeGb : patch.dataSizeGb,
      complexity:
        patch.complexity === undefined ? (before.complexity as ItemInput['complexity']) : patch.complexity,
      targetService: patch.targetService === undefined ? (row.target_slug ?? null) : patch.targetService,
      wave: patch.wave === undefined ? before.wave : patch.wave,
      plannedOn: patch.plannedOn === undefined ? before.plannedOn : patch.plannedOn,
      dependsOn: patch.dependsOn ?? before.dependsOn.map((d) => d.item),
    };
    const { item, problems } = await prepareItem(trx, caller, merged, await wavesByNumber(trx));
    if (!item) throw invalid(problems);
    if (
      item.values.wave_id === null &&
      (['scheduled', 'migrating', 'parallel-run'] as ItemState[]).includes(row.state)
    )
      throw invalid([{ field: 'wave', message: `a ${row.state} item keeps its wave` }]);
    const deps = await resolveDependencies(trx, caller, item.dependsOn);
    if (deps.problems.length) throw invalid(deps.problems);
    const { ref: _ref, ...values } = item.values;
    await repo.updateItem(trx, row.id, values);
    await repo.setDependencies(trx, row.id, deps.ids);
    const after = (await withDependencies(trx, [await resolveItem(trx, caller, department, ref)]))[0] as Item;
    await recordChange(trx, auditContext(caller), {
      action: 'migration-item.update',
      targetType: 'migration-item',
      targetId: after.id,
      departmentId: row.department_id,
      before,
      after,
    });
    return after;
  });
}

/**
 * Moves an item to `to`, if the transition table allows it from where the item stands: else 409
 * naming the states it may move to. Blocking needs a reason; scheduling needs a wave.
 */
export async function moveItem(
  db: Db,
  caller: Caller,
  department: string,
  ref: string,
  to: ItemState,
  reason?: string,
): Promise<Item> {
  authorize(caller, 'migration:write');
  return db.transaction().execute(async (trx) => {
    const row = await resolveItem(trx, caller, department, ref, true);
    const allowed = nextStates(row.state, row.blocked_from);
    if (!allowed.includes(to)) {
      throw new DomainError(
        'GOVHOST_MIGRATION_TRANSITION',
        `${row.department_code}/${row.ref} is ${row.state}; it cannot move to ${to} (allowed: ${allowed.join(', ') || 'none'})`,
        { state: row.state, allowed: [...allowed] },
      );
    }
    const why = reason?.trim() || null;
    if (to === 'blocked' && !why)
      throw invalid([{ field: 'reason', message: 'is required to block an item' }]);
    if (to === 'assessed' && !row.complexity)
      throw invalid([{ field: 'complexity', message: 'is required to assess an item: set it first' }]);
    if (to === 'scheduled' && !row.wave_id)
      throw invalid([{ field: 'wave', message: 'is required to schedule an item: put it in a wave first' }]);
    const now = new Date();
    await repo.updateItem(trx, row.id, {
      state: to,
      state_changed_at: now,
      blocked_reason: to === 'blocked' ? why : null,
      blocked_from: to === 'blocked' ? row.state : null,
      // Cut-over is when its traffic left the legacy platform; falling back puts it back there.
      ...(to === 'cut-over'
        ? { cut_over_at: now }
        : row.state === 'cut-over' && to === 'parallel-run'
          ? { cut_over_at: null }
          : {}),
    });
    await repo.insertStep(trx, {
      item_id: row.id,
      from_state: row.state,
      to_state: to,
      reason: why,
      by_name: caller.username,
    });
    await recordChange(trx, auditContext(caller), {
      action: 'migration-item.move',
      targetType: 'migration-item',
      targetId: `${row.department_code}/${row.ref}`,
      departmentId: row.department_id,
      before: { state: row.state },
      after: { state: to, ...(why ? { reason: why } : {}) },
    });
    return (await withDependencies(trx, [await resolveItem(trx, caller, department, ref)]))[0] as Item;
  });
}

export async function listItems(
  db: Db,
  caller: Principal,
  page: Page,
  filter: { department?: string; wave?: number; state?: ItemState },
): Promise<PageOf<Item>> {
  authorize(caller, 'service:read');
  const departmentId = filter.department
    ? (await resolveDepartment(db, caller, filter.department)).id
    : undefined;
  let waveId: string | undefined;
  if (filter.wave !== undefined) {
    const w = await repo.findWave(db, filter.wave);
    if (!w) throw new DomainError('GOVHOST_MIGRATION_WAVE_NOT_FOUND', `there is no wave ${filter.wave}`);
    waveId = w.id;
  }
  const { items, total } = await repo.list(db, departmentScope(caller), page, {
    departmentId,
    waveId,
    state: filter.state,
  });
  return { items: await withDependencies(db, items), total, ...page };
}

/** One item, with every step it took (oldest first). */
export async function getItem(db: Db, caller: Principal, department: string, ref: string) {
  authorize(caller, 'service:read');
  const row = await resolveItem(db, caller, department, ref);
  const steps = await repo.stepsOf(db, row.id);
  return {
    ...((await withDependencies(db, [row]))[0] as Item),
    steps: steps.map((s) => ({
      from: s.from_state,
      to: s.to_state,
      reason: s.reason,
      by: s.by_name,
      at: s.at.toISOString(),
    })),
  };
}
