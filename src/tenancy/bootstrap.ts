import { recordChange } from '../audit/audit.logic.ts';
import type { Db } from '../platform/database.ts';
import { issueToken } from './token.logic.ts';
import * as tokens from './token.repository.ts';
import * as users from './user.repository.ts';

const ADMIN = 'admin';
const ADMIN_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * On the very first start, creates the platform-admin `admin` and returns a token for it; on any
 * later start returns null, so the credential is shown exactly once.
 */
export async function bootstrapAdmin(db: Db): Promise<{ username: string; token: string } | null> {
  return db.transaction().execute(async (trx) => {
    const { n } = await trx
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n) > 0) return null;
    const id = await users.insert(trx, {
      username: ADMIN,
      display_name: 'Platform administrator',
      email: null,
      department_id: null,
      role: 'platform-admin',
      password_hash: null,
    });
    const t = await issueToken(trx, {
      userId: id,
      name: 'bootstrap',
      kind: 'api',
      scope: 'write',
      ttlMs: ADMIN_TOKEN_TTL_MS,
    });
    await recordChange(
      trx,
      { actorId: null, actorName: 'govhost bootstrap', requestId: null },
      {
        action: 'user.create',
        targetType: 'user',
        targetId: ADMIN,
        departmentId: null,
        after: { username: ADMIN, role: 'platform-admin' },
      },
    );
    return { username: ADMIN, token: t.secret };
  });
}

/**
 * Recovery when no admin credential is left: re-enables (or re-creates) the platform-admin
 * `username`, revokes its tokens and returns a new one. Run on the host, with the server stopped.
 */
export async function resetAdmin(db: Db, username = ADMIN): Promise<{ username: string; token: string }> {
  return db.transaction().execute(async (trx) => {
    const existing = await users.findByUsername(trx, null, username);
    if (existing && existing.role !== 'platform-admin') {
      throw new Error(
        `user ${username} exists and is not a platform-admin; choose another name with --username`,
      );
    }
    const now = new Date();
    let id: string;
    if (existing) {
      id = existing.id;
      await users.update(trx, id, { disabled: false });
      await tokens.revokeAllForUser(trx, id, now);
    } else {
      id = await users.insert(trx, {
        username,
        display_name: 'Platform administrator',
        email: null,
        department_id: null,
        role: 'platform-admin',
        password_hash: null,
      });
    }
    const t = await issueToken(trx, {
      userId: id,
      name: 'admin-reset',
      kind: 'api',
      scope: 'write',
      ttlMs: ADMIN_TOKEN_TTL_MS,
    });
    await recordChange(
      trx,
      { actorId: null, actorName: 'govhost admin reset', requestId: null },
      {
        action: 'admin.reset',
        targetType: 'user',
        targetId: username,
        departmentId: null,
        after: { username, role: 'platform-admin' },
      },
    );
    return { username, token: t.secret };
  });
}
