import { recordChange } from '../audit/audit.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import { resolveDepartment } from './department.logic.ts';
import { hashPassword } from './password.ts';
import { auditContext, authorize, type Caller, departmentScope, type Principal } from './principal.ts';
import { isDepartmentRole, type Role } from './roles.ts';
import type { Locale } from './tenancy.tables.ts';
import * as tokens from './token.repository.ts';
import type { UserRow } from './user.repository.ts';
import * as repo from './user.repository.ts';

export interface User {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  department: string | null;
  role: Role;
  disabled: boolean;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

const present = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  email: r.email,
  department: r.department_code,
  role: r.role,
  disabled: r.disabled,
  hasPassword: r.password_hash !== null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

async function resolveUser(db: Db, caller: Principal, username: string): Promise<UserRow> {
  const row = await repo.findByUsername(db, departmentScope(caller), username);
  if (!row) throw new DomainError('GOVHOST_USER_NOT_FOUND', `no user ${username}`);
  return row;
}

/** A department admin gives department roles only; platform roles are the platform admin's to give. */
function checkRoleGrant(caller: Principal, role: Role): void {
  if (!isDepartmentRole(role) && caller.role !== 'platform-admin') {
    throw new DomainError('GOVHOST_ROLE_NOT_ALLOWED', `only a platform-admin may give the role ${role}`);
  }
}

export async function listUsers(
  db: Db,
  caller: Principal,
  page: Page,
  filter: { department?: string },
): Promise<PageOf<User>> {
  authorize(caller, 'user:read');
  const departmentId = filter.department
    ? (await resolveDepartment(db, caller, filter.department)).id
    : undefined;
  const { items, total } = await repo.list(db, departmentScope(caller), page, { departmentId });
  return { items: items.map(present), total, ...page };
}

export async function getUser(db: Db, caller: Principal, username: string): Promise<User> {
  if (username !== caller.username) authorize(caller, 'user:read');
  return present(await resolveUser(db, caller, username));
}

export interface NewUser {
  username: string;
  displayName: string;
  email?: string;
  role: Role;
  department?: string;
  password?: string;
}

export async function createUser(db: Db, caller: Caller, input: NewUser): Promise<User> {
  try {
    return await db.transaction().execute(async (trx) => {
      let departmentId: string | null = null;
      if (isDepartmentRole(input.role)) {
        const code = input.department ?? caller.departmentCode;
        if (!code) throw new DomainError('GOVHOST_VALIDATION', `role ${input.role} needs a department`);
        departmentId = (await resolveDepartment(trx, caller, code)).id;
      } else if (input.department) {
        throw new DomainError(
          'GOVHOST_VALIDATION',
          `role ${input.role} is a platform role and takes no department`,
        );
      }
      authorize(caller, 'user:write');
      checkRoleGrant(caller, input.role);
      const id = await repo.insert(trx, {
        username: input.username,
        display_name: input.displayName,
        email: input.email ?? null,
        department_id: departmentId,
        role: input.role,
        password_hash: input.password ? await hashPassword(input.password) : null,
      });
      const after = present((await repo.findById(trx, id))!);
      await recordChange(trx, auditContext(caller), {
        action: 'user.create',
        targetType: 'user',
        targetId: input.username,
        departmentId,
        after,
      });
      return after;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('GOVHOST_USER_EXISTS', `user ${input.username} exists`);
    throw err;
  }
}

export interface UserPatch {
  displayName?: string;
  email?: string | null;
  role?: Role;
  disabled?: boolean;
  password?: string;
}

/**
 * Admins change users in their scope; anyone may change their own name, e-mail and password,
 * but not their own role or whether they are disabled.
 */
export async function updateUser(db: Db, caller: Caller, username: string, patch: UserPatch): Promise<User> {
  return db.transaction().execute(async (trx) => {
    const row = await resolveUser(trx, caller, username);
    const self = row.id === caller.userId;
    const privileged = patch.role !== undefined || patch.disabled !== undefined;
    if (!self || privileged) authorize(caller, 'user:write');
    else if (caller.tokenScope === 'read')
      throw new DomainError('GOVHOST_FORBIDDEN', 'this token is read-only');
    if (patch.role !== undefined) {
      checkRoleGrant(caller, patch.role);
      checkRoleGrant(caller, row.role);
      if (isDepartmentRole(patch.role) !== isDepartmentRole(row.role)) {
        throw new DomainError(
          'GOVHOST_ROLE_NOT_ALLOWED',
          'a user cannot move between platform and department roles',
        );
      }
    }
    const losesAdmin =
      row.role === 'platform-admin' && (patch.disabled === true || (patch.role ?? row.role) !== row.role);
    if (losesAdmin && (await repo.countByRole(trx, 'platform-admin')) <= 1) {
      throw new DomainError(
        'GOVHOST_ROLE_NOT_ALLOWED',
        'the last platform-admin cannot be disabled or demoted',
      );
    }
    await repo.update(trx, row.id, {
      display_name: patch.displayName,
      email: patch.email,
      role: patch.role,
      disabled: patch.disabled,
      password_hash: patch.password ? await hashPassword(patch.password) : undefined,
    });
    // A disabled user's tokens stop working at once, and stay dead if the user is enabled again.
    if (patch.disabled === true) await tokens.revokeAllForUser(trx, row.id, new Date());
    const after = present((await repo.findById(trx, row.id))!);
    await recordChange(trx, auditContext(caller), {
      action: patch.password ? 'user.update-password' : 'user.update',
      targetType: 'user',
      targetId: row.username,
      departmentId: row.department_id,
      before: present(row),
      after,
    });
    return after;
  });
}

/**
 * Where to e-mail people another capability tells of a change (a ticket's raiser and watchers):
 * enabled users with an address, of the department or the central team only, so a person who has
 * since moved to another department hears nothing more of this one's affairs.
 */
export function notificationAddresses(db: Executor, departmentId: string, usernames: string[]) {
  return repo.emailsOf(db, departmentId, usernames);
}

/** The caller's own console language; null when they have not chosen one. */
export async function myLocale(db: Db, caller: Principal): Promise<Locale | null> {
  return (await repo.findById(db, caller.userId))?.locale ?? null;
}

/** Anyone may set their own language, with a token that may write. */
export async function setMyLocale(db: Db, caller: Caller, locale: Locale): Promise<Locale> {
  if (caller.tokenScope === 'read') throw new DomainError('GOVHOST_FORBIDDEN', 'this token is read-only');
  return db.transaction().execute(async (trx) => {
    const row = await repo.findById(trx, caller.userId);
    if (!row) throw new DomainError('GOVHOST_NOT_FOUND', `no user ${caller.username}`);
    if (row.locale === locale) return locale;
    await repo.update(trx, row.id, { locale });
    await recordChange(trx, auditContext(caller), {
      action: 'user.update-locale',
      targetType: 'user',
      targetId: row.username,
      departmentId: row.department_id,
      before: { locale: row.locale },
      after: { locale },
    });
    return locale;
  });
}
