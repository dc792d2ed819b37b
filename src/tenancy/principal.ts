import type { AuditContext } from '../audit/audit.logic.ts';
import { DomainError } from '../platform/errors.ts';
import { isDepartmentRole, isReadOnly, type Permission, type Role, roleAllows } from './roles.ts';

/** The authenticated caller of one request. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  departmentId: string | null;
  departmentCode: string | null;
  tokenId: string;
  tokenScope: 'read' | 'write';
}

/** A principal together with the request it made: what logic functions take as "who asks". */
export interface Caller extends Principal {
  requestId: string;
}

/**
 * The one place where a caller's department scope is decided: null means every department
 * (platform roles), otherwise the caller's own department id. Repositories filter by it.
 */
export function departmentScope(caller: Principal): string | null {
  return isDepartmentRole(caller.role) ? caller.departmentId : null;
}

/** Throws 403 unless the caller's role, and the token's scope for writes, allow the action. */
export function authorize(caller: Principal, permission: Permission): void {
  if (!roleAllows(caller.role, permission)) {
    throw new DomainError('GOVHOST_FORBIDDEN', `role ${caller.role} may not ${permission.replace(':', ' ')}`);
  }
  if (!isReadOnly(permission) && caller.tokenScope === 'read') {
    throw new DomainError('GOVHOST_FORBIDDEN', 'this token is read-only');
  }
}

export function auditContext(caller: Caller): AuditContext {
  return { actorId: caller.userId, actorName: caller.username, requestId: caller.requestId };
}
