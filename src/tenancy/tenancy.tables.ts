import type { ColumnType, Generated } from 'kysely';
import type { Role } from './roles.ts';

type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, never, Date>;

export interface DepartmentTable {
  id: Generated<string>;
  code: string;
  name_en: string;
  name_zh: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface UserTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  email: string | null;
  department_id: string | null;
  role: Role;
  password_hash: string | null;
  disabled: Generated<boolean>;
  /** The console's language; null until the user picks one. */
  locale: ColumnType<Locale | null, Locale | null | undefined, Locale | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type Locale = 'en' | 'zh-Hant';

export interface ApiTokenTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  /** `api` for tokens made by hand, `session` for console/CLI password logins. */
  kind: 'api' | 'session';
  scope: 'read' | 'write';
  /** sha256 of the secret: tokens are long random strings, so a fast hash is enough. */
  token_hash: string;
  /** First characters of the secret, shown so that a person can tell tokens apart. */
  prefix: string;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: CreatedAt;
}

/**
 * Failed password sign-ins of one user name, or from one client address, within the current
 * window: kept in the store so that every control-plane process, and a restart, sees them.
 */
export interface SignInThrottleTable {
  kind: 'user' | 'address';
  /** The user name as typed (whether or not such a user exists), or the client's address. */
  subject: string;
  failures: number;
  window_started_at: Date;
  last_failure_at: Date;
  /** The growing delay: no attempt is checked before this. */
  blocked_until: Date | null;
  /** The temporary lock after too many failures; an operator may lift it. */
  locked_until: Date | null;
}

export interface TenancyTables {
  departments: DepartmentTable;
  users: UserTable;
  api_tokens: ApiTokenTable;
  sign_in_throttle: SignInThrottleTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends TenancyTables {}
}
