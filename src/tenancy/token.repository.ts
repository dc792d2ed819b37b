import type { Executor } from '../platform/database.ts';

export interface TokenRow {
  id: string;
  user_id: string;
  username: string;
  department_id: string | null;
  name: string;
  kind: 'api' | 'session';
  scope: 'read' | 'write';
  prefix: string;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

/** Tokens with their owner; `scope` limits them to owners in one department (null: all). */
function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([
      'api_tokens.id',
      'api_tokens.user_id',
      'users.username',
      'users.department_id',
      'api_tokens.name',
      'api_tokens.kind',
      'api_tokens.scope',
      'api_tokens.prefix',
      'api_tokens.expires_at',
      'api_tokens.revoked_at',
      'api_tokens.last_used_at',
      'api_tokens.created_at',
    ]);
  return scope === null ? q : q.where('users.department_id', '=', scope);
}

export async function listForUser(db: Executor, scope: string | null, userId: string): Promise<TokenRow[]> {
  return (await scoped(db, scope)
    .where('api_tokens.user_id', '=', userId)
    .orderBy('api_tokens.created_at', 'desc')
    .execute()) as TokenRow[];
}

export async function findById(db: Executor, scope: string | null, id: string) {
  return (await scoped(db, scope).where('api_tokens.id', '=', id).executeTakeFirst()) as TokenRow | undefined;
}

export async function insert(
  db: Executor,
  row: {
    user_id: string;
    name: string;
    kind: 'api' | 'session';
    scope: 'read' | 'write';
    token_hash: string;
    prefix: string;
    expires_at: Date;
  },
): Promise<string> {
  const { id } = await db.insertInto('api_tokens').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function revoke(db: Executor, id: string, at: Date): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeAllForUser(db: Executor, userId: string, at: Date): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** The live token with this hash, with what a principal needs; expired or revoked tokens are not returned. */
export async function findLiveByHash(db: Executor, hash: string, now: Date) {
  return db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .leftJoin('departments', 'departments.id', 'users.department_id')
    .select([
      'api_tokens.id as token_id',
      'api_tokens.scope',
      'api_tokens.last_used_at',
      'users.id as user_id',
      'users.username',
      'users.role',
      'users.department_id',
      'departments.code as department_code',
    ])
    .where('api_tokens.token_hash', '=', hash)
    .where('api_tokens.revoked_at', 'is', null)
    .where('api_tokens.expires_at', '>', now)
    .where('users.disabled', '=', false)
    .executeTakeFirst();
}

export async function touch(db: Executor, id: string, at: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}
