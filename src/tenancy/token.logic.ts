import { createHash, randomBytes } from 'node:crypto';
import { recordChange } from '../audit/audit.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { verifyPassword } from './password.ts';
import { auditContext, authorize, type Caller, departmentScope, type Principal } from './principal.ts';
import { checkSignIn, signInFailed, signInSucceeded } from './sign-in.logic.ts';
import type { TokenRow } from './token.repository.ts';
import * as repo from './token.repository.ts';
import * as users from './user.repository.ts';

const TOKEN_PREFIX = 'ghk_';
const DAY_MS = 24 * 60 * 60 * 1000;
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
// A last-used time to the minute is enough, and saves a write on every request.
const TOUCH_EVERY_MS = 60 * 1000;

export interface Token {
  id: string;
  name: string;
  user: string;
  kind: 'api' | 'session';
  scope: 'read' | 'write';
  prefix: string;
  state: 'active' | 'expired' | 'revoked';
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

/** sha256 of a bearer secret: how API tokens (and payment keys, decision 040) are stored. */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

function present(r: TokenRow, now = new Date()): Token {
  const state = r.revoked_at ? 'revoked' : r.expires_at <= now ? 'expired' : 'active';
  return {
    id: r.id,
    name: r.name,
    user: r.username,
    kind: r.kind,
    scope: r.scope,
    prefix: r.prefix,
    state,
    expiresAt: r.expires_at.toISOString(),
    revokedAt: r.revoked_at?.toISOString() ?? null,
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
  };
}

/** Makes a new token and returns its secret: the only time the secret exists outside the caller. */
export async function issueToken(
  db: Executor,
  opts: { userId: string; name: string; kind: 'api' | 'session'; scope: 'read' | 'write'; ttlMs: number },
): Promise<{ id: string; secret: string; expiresAt: Date }> {
  const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + opts.ttlMs);
  const id = await repo.insert(db, {
    user_id: opts.userId,
    name: opts.name,
    kind: opts.kind,
    scope: opts.scope,
    token_hash: hashSecret(secret),
    prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
    expires_at: expiresAt,
  });
  return { id, secret, expiresAt };
}

/** The principal behind a bearer secret, or 401 when it is unknown, expired, revoked or its user disabled. */
export async function authenticate(db: Db, secret: string): Promise<Principal> {
  if (!secret.startsWith(TOKEN_PREFIX)) throw new DomainError('GOVHOST_TOKEN_INVALID');
  const now = new Date();
  const row = await repo.findLiveByHash(db, hashSecret(secret), now);
  if (!row) throw new DomainError('GOVHOST_TOKEN_INVALID');
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > TOUCH_EVERY_MS) {
    await repo.touch(db, row.token_id, now);
  }
  return {
    userId: row.user_id,
    username: row.username,
    role: row.role,
    departmentId: row.department_id,
    departmentCode: row.department_code,
    tokenId: row.token_id,
    tokenScope: row.scope,
  };
}

/**
 * Exchanges a user name and password for a session token. Throttled per user name and client
 * address (sign-in.logic.ts): the check comes before the password is hashed.
 */
export async function login(
  db: Db,
  input: { username: string; password: string },
  from: { requestId: string; address: string },
): Promise<{ token: string; expiresAt: string }> {
  const attempt = { username: input.username, ...from };
  await checkSignIn(db, attempt);
  const user = await users.findByUsername(db, null, input.username);
  const ok = await verifyPassword(input.password, user?.password_hash ?? null);
  if (!user || !ok || user.disabled) {
    await signInFailed(db, attempt, user?.department_id ?? null);
    throw new DomainError('GOVHOST_LOGIN_FAILED');
  }
  return db.transaction().execute(async (trx) => {
    const t = await issueToken(trx, {
      userId: user.id,
      name: 'login',
      kind: 'session',
      scope: 'write',
      ttlMs: SESSION_TTL_MS,
    });
    await signInSucceeded(trx, user.username);
    await recordChange(
      trx,
      { actorId: user.id, actorName: user.username, requestId: from.requestId },
      { action: 'session.create', targetType: 'token', targetId: t.id, departmentId: user.department_id },
    );
    return { token: t.secret, expiresAt: t.expiresAt.toISOString() };
  });
}

/**
 * Ends the caller's own sign-in: a session token (from a password login) is revoked at once. An
 * API token is left alone, since it was made on purpose and may be in use elsewhere; revoking
 * one is `DELETE /tokens/:id`.
 */
export async function logout(db: Db, caller: Caller): Promise<{ revoked: boolean; kind: 'api' | 'session' }> {
  return db.transaction().execute(async (trx) => {
    const row = await repo.findById(trx, null, caller.tokenId);
    if (!row) throw new DomainError('GOVHOST_UNAUTHENTICATED');
    if (row.kind !== 'session') return { revoked: false, kind: row.kind };
    await repo.revoke(trx, row.id, new Date());
    await recordChange(trx, auditContext(caller), {
      action: 'session.end',
      targetType: 'token',
      targetId: row.id,
      departmentId: row.department_id,
    });
    return { revoked: true, kind: row.kind };
  });
}

/** The user whose tokens the caller asks about: itself, or (for admins) a user in its scope. */
async function tokenOwner(db: Executor, caller: Principal, username: string | undefined) {
  if (!username || username === caller.username)
    return { id: caller.userId, departmentId: caller.departmentId };
  const user = await users.findByUsername(db, departmentScope(caller), username);
  if (!user) throw new DomainError('GOVHOST_USER_NOT_FOUND', `no user ${username}`);
  authorize(caller, 'token:manage-others');
  return { id: user.id, departmentId: user.department_id };
}

export async function listTokens(db: Db, caller: Principal, username?: string): Promise<Token[]> {
  const owner = await tokenOwner(db, caller, username);
  return (await repo.listForUser(db, departmentScope(caller), owner.id)).map((r) => present(r));
}

export async function createToken(
  db: Db,
  caller: Caller,
  input: { name: string; scope?: 'read' | 'write'; expiresInDays?: number; user?: string },
): Promise<{ token: Token; secret: string }> {
  // A read-only token may not mint a write token; reading its own tokens stays allowed.
  if (caller.tokenScope === 'read') throw new DomainError('GOVHOST_FORBIDDEN', 'this token is read-only');
  return db.transaction().execute(async (trx) => {
    const owner = await tokenOwner(trx, caller, input.user);
    const t = await issueToken(trx, {
      userId: owner.id,
      name: input.name,
      kind: 'api',
      scope: input.scope ?? 'write',
      ttlMs: (input.expiresInDays ?? 90) * DAY_MS,
    });
    const row = await repo.findById(trx, null, t.id);
    const token = present(row!);
    await recordChange(trx, auditContext(caller), {
      action: 'token.create',
      targetType: 'token',
      targetId: t.id,
      departmentId: owner.departmentId,
      after: token,
    });
    return { token, secret: t.secret };
  });
}

/** Revokes a token the caller owns, or (for admins) one of a user in its scope; 404 otherwise. */
export async function revokeToken(db: Db, caller: Caller, id: string): Promise<Token> {
  return db.transaction().execute(async (trx) => {
    const row = await repo.findById(trx, departmentScope(caller), id);
    if (!row) throw new DomainError('GOVHOST_TOKEN_NOT_FOUND', `no token ${id}`);
    if (row.user_id !== caller.userId) authorize(caller, 'token:manage-others');
    else if (caller.tokenScope === 'read')
      throw new DomainError('GOVHOST_FORBIDDEN', 'this token is read-only');
    await repo.revoke(trx, id, new Date());
    const after = present((await repo.findById(trx, null, id))!);
    await recordChange(trx, auditContext(caller), {
      action: 'token.revoke',
      targetType: 'token',
      targetId: id,
      departmentId: row.department_id,
      before: present(row),
      after,
    });
    return after;
  });
}
