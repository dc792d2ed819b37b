import { recordChange } from '../audit/audit.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import type { DepartmentRow } from './department.repository.ts';
import * as repo from './department.repository.ts';
import { auditContext, authorize, type Caller, departmentScope, type Principal } from './principal.ts';

export interface Department {
  code: string;
  nameEn: string;
  nameZh: string;
  createdAt: string;
  updatedAt: string;
}

const present = (r: DepartmentRow): Department => ({
  code: r.code,
  nameEn: r.name_en,
  nameZh: r.name_zh,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const notFound = (code: string) => new DomainError('GOVHOST_DEPARTMENT_NOT_FOUND', `no department ${code}`);

/**
 * The department with this code as the caller may see it, or 404: a department user asking for
 * another department is told it does not exist. Other capabilities resolve departments here.
 */
export async function resolveDepartment(
  db: Executor,
  caller: Principal,
  code: string,
): Promise<DepartmentRow> {
  const row = await repo.findByCode(db, departmentScope(caller), code.toUpperCase());
  if (!row) throw notFound(code);
  return row;
}

/** Department codes by id, for presenting rows of other capabilities (a deleted one maps to null). */
export async function departmentCodes(db: Executor, ids: (string | null)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  return new Map((await repo.findManyById(db, wanted)).map((r) => [r.id, r.code]));
}

export async function listDepartments(db: Db, caller: Principal, page: Page): Promise<PageOf<Department>> {
  authorize(caller, 'department:read');
  const { items, total } = await repo.list(db, departmentScope(caller), page);
  return { items: items.map(present), total, ...page };
}

export async function getDepartment(db: Db, caller: Principal, code: string): Promise<Department> {
  authorize(caller, 'department:read');
  return present(await resolveDepartment(db, caller, code));
}

export async function createDepartment(
  db: Db,
  caller: Caller,
  input: { code: string; nameEn: string; nameZh: string },
): Promise<Department> {
  authorize(caller, 'department:write');
  try {
    return await db.transaction().execute(async (trx) => {
      const row = await repo.insert(trx, { code: input.code, name_en: input.nameEn, name_zh: input.nameZh });
      const after = present(row);
      await recordChange(trx, auditContext(caller), {
        action: 'department.create',
        targetType: 'department',
        targetId: row.code,
        departmentId: row.id,
        after,
      });
      return after;
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new DomainError('GOVHOST_DEPARTMENT_EXISTS', `department ${input.code} exists`);
    throw err;
  }
}

export async function updateDepartment(
  db: Db,
  caller: Caller,
  code: string,
  patch: { nameEn?: string; nameZh?: string },
): Promise<Department> {
  return db.transaction().execute(async (trx) => {
    const row = await resolveDepartment(trx, caller, code);
    authorize(caller, 'department:write');
    const updated = await repo.update(trx, row.id, { name_en: patch.nameEn, name_zh: patch.nameZh });
    const before = present(row);
    const after = present(updated);
    await recordChange(trx, auditContext(caller), {
      action: 'department.update',
      targetType: 'department',
      targetId: row.code,
      departmentId: row.id,
      before,
      after,
    });
    return after;
  });
}

/** Deletes a department that has no users and no services left. */
export async function deleteDepartment(db: Db, caller: Caller, code: string): Promise<void> {
  try {
    await db.transaction().execute(async (trx) => {
      const row = await resolveDepartment(trx, caller, code);
      authorize(caller, 'department:write');
      await repo.remove(trx, row.id);
      await recordChange(trx, auditContext(caller), {
        action: 'department.delete',
        targetType: 'department',
        targetId: row.code,
        departmentId: row.id,
        before: present(row),
      });
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      throw new DomainError('GOVHOST_DEPARTMENT_NOT_EMPTY', `department ${code} still has users or services`);
    }
    throw err;
  }
}
