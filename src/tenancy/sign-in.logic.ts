import { recordChange } from '../audit/audit.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { auditContext, authorize, type Caller, type Principal } from './principal.ts';
import type { ThrottleKind, ThrottleRow } from './sign-in.repository.ts';
import * as repo from './sign-in.repository.ts';

const MINUTE = 60_000;

/**
 * How failed passwords slow down guessing. Per user name, a few typos cost nothing,
 * then each failure makes the next try wait longer, then the name is locked for a while. Per
 * address the same, with room for an office behind one NAT address.
 */
export const SIGN_IN_POLICY = {
  windowMs: 15 * MINUTE,
  lockMs: 15 * MINUTE,
  firstDelayMs: 1_000,
  maxDelayMs: 30_000,
  user: { delayAfter: 3, lockAfter: 10 },
  address: { delayAfter: 10, lockAfter: 50 },
} as const;

/** Who is trying to sign in: the name typed and the client's address. */
export interface Attempt {
  username: string;
  address: string;
  requestId: string;
}

const keysOf = (a: Attempt) => [
  { kind: 'user' as const, subject: a.username },
  { kind: 'address' as const, subject: a.address },
];

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Refuses an attempt while its user name or address is delayed or locked: 423 or 429 with
 * Retry-After. Called before the password is hashed, so refused guesses cost no scrypt either.
 */
export async function checkSignIn(db: Db, attempt: Attempt, now = new Date()): Promise<void> {
  const rows = await repo.find(db, keysOf(attempt));
  const locked = rows.filter((r) => r.locked_until && r.locked_until > now);
  if (locked.length > 0) {
    const until = Math.max(...locked.map((r) => r.locked_until!.getTime()));
    throw new DomainError(
      'GOVHOST_SIGN_IN_LOCKED',
      `too many failed passwords: sign-in is locked until ${new Date(until).toISOString()}; an operator can unlock it`,
      { retryAfter: seconds(until - now.getTime()), lockedUntil: new Date(until).toISOString() },
    );
  }
  const blocked = rows.filter((r) => r.blocked_until && r.blocked_until > now);
  if (blocked.length > 0) {
    const until = Math.max(...blocked.map((r) => r.blocked_until!.getTime()));
    const wait = seconds(until - now.getTime());
    throw new DomainError('GOVHOST_SIGN_IN_THROTTLED', `too many failed passwords: try again in ${wait} s`, {
      retryAfter: wait,
    });
  }
}

/** One more failure for `row`: a new window when the last one has passed, then delay or lock. */
function fail(
  row: ThrottleRow,
  kind: ThrottleKind,
  now: Date,
): { row: ThrottleRow; step: 'lock' | 'delay' | null } {
  const policy = SIGN_IN_POLICY[kind];
  const fresh =
    now.getTime() - row.window_started_at.getTime() >= SIGN_IN_POLICY.windowMs || row.failures === 0;
  const failures = fresh ? 1 : row.failures + 1;
  const next: ThrottleRow = {
    ...row,
    failures,
    window_started_at: fresh ? now : row.window_started_at,
    last_failure_at: now,
  };
  if (failures >= policy.lockAfter) {
    return {
      row: { ...next, locked_until: new Date(now.getTime() + SIGN_IN_POLICY.lockMs), blocked_until: null },
      step: 'lock',
    };
  }
  if (failures >= policy.delayAfter) {
    const delay = Math.min(
      SIGN_IN_POLICY.maxDelayMs,
      SIGN_IN_POLICY.firstDelayMs * 2 ** (failures - policy.delayAfter),
    );
    return { row: { ...next, blocked_until: new Date(now.getTime() + delay) }, step: 'delay' };
  }
  return { row: next, step: null };
}

/** Counts a failed password against the user name and the address; a delay or lock is audited. */
export async function signInFailed(
  db: Db,
  attempt: Attempt,
  departmentId: string | null,
  now = new Date(),
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await repo.prune(trx, new Date(now.getTime() - 24 * 60 * MINUTE), now);
    for (const { kind, subject } of keysOf(attempt)) {
      const { row, step } = fail(await repo.lockRow(trx, kind, subject, now), kind, now);
      await repo.update(trx, row);
      if (!step) continue;
      await recordChange(
        trx,
        { actorId: null, actorName: 'anonymous', requestId: attempt.requestId },
        {
          action: step === 'lock' ? 'sign-in.lock' : 'sign-in.delay',
          targetType: kind,
          targetId: subject,
          departmentId: kind === 'user' ? departmentId : null,
          after: {
            failures: row.failures,
            address: attempt.address,
            username: attempt.username,
            until: (step === 'lock' ? row.locked_until : row.blocked_until)?.toISOString(),
          },
        },
      );
    }
  });
}

/** A successful sign-in clears the user name's count (not the address's: one good account must not reset it). */
export async function signInSucceeded(trx: Executor, username: string): Promise<void> {
  await repo.remove(trx, 'user', username);
}

export interface SignInThrottle {
  kind: ThrottleKind;
  subject: string;
  state: 'locked' | 'delayed' | 'counting';
  failures: number;
  lastFailureAt: string;
  blockedUntil: string | null;
  lockedUntil: string | null;
}

function present(r: ThrottleRow, now: Date): SignInThrottle {
  const state =
    r.locked_until && r.locked_until > now
      ? 'locked'
      : r.blocked_until && r.blocked_until > now
        ? 'delayed'
        : 'counting';
  return {
    kind: r.kind,
    subject: r.subject,
    state,
    failures: r.failures,
    lastFailureAt: r.last_failure_at.toISOString(),
    blockedUntil: r.blocked_until?.toISOString() ?? null,
    lockedUntil: r.locked_until?.toISOString() ?? null,
  };
}

/** Current locks and the user names and addresses with recent failures, for the operators' desk. */
export async function listSignInThrottles(
  db: Db,
  caller: Principal,
  now = new Date(),
): Promise<SignInThrottle[]> {
  authorize(caller, 'sign-in:read');
  const since = new Date(now.getTime() - SIGN_IN_POLICY.windowMs);
  return (await repo.listActive(db, now, since, 500)).map((r) => present(r, now));
}

/** Lifts a lock (and forgets the failures) of a user name or an address; audited. */
export async function unlockSignIn(
  db: Db,
  caller: Caller,
  kind: ThrottleKind,
  subject: string,
): Promise<SignInThrottle> {
  authorize(caller, 'sign-in:unlock');
  return db.transaction().execute(async (trx) => {
    const row = await repo.remove(trx, kind, subject);
    if (!row)
      throw new DomainError(
        'GOVHOST_SIGN_IN_NOT_LOCKED',
        `no failed sign-ins are counted for ${kind} ${subject}`,
      );
    const before = present(row, new Date());
    await recordChange(trx, auditContext(caller), {
      action: 'sign-in.unlock',
      targetType: kind,
      targetId: subject,
      departmentId: null,
      before,
    });
    return before;
  });
}
