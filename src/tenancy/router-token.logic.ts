import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Caller } from './principal.ts';
import { createToken, type Token } from './token.logic.ts';
import { createUser } from './user.logic.ts';
import * as users from './user.repository.ts';

/**
 * A token for a router that follows the control plane (decision 028): read-only, of the user
 * `router-<name>` with the role `router` (made on first use, without a password), which may read
 * the route table and nothing else. Only a platform admin may make one: creating the user checks.
 */
export async function createRouterToken(
  db: Db,
  caller: Caller,
  input: { name: string; expiresInDays?: number },
): Promise<{ token: Token; secret: string }> {
  if (caller.tokenScope === 'read') throw new DomainError('GOVHOST_FORBIDDEN', 'this token is read-only');
  const username = `router-${input.name}`;
  const existing = await users.findByUsername(db, null, username);
  if (!existing) {
    await createUser(db, caller, { username, displayName: `Router ${input.name}`, role: 'router' });
  } else if (existing.role !== 'router') {
    throw new DomainError('GOVHOST_USER_EXISTS', `user ${username} exists and is not a router`);
  }
  return createToken(db, caller, {
    name: `router ${input.name}`,
    scope: 'read',
    user: username,
    expiresInDays: input.expiresInDays ?? 365,
  });
}
