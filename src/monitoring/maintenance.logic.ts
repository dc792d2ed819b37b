import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import * as services from '../catalog/service.repository.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import { departmentCodes } from '../tenancy/department.logic.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import type { MaintenanceRow } from './maintenance.repository.ts';
import * as repo from './maintenance.repository.ts';

/** Longest window one notice may announce: longer work is announced in parts, each explained. */
export const MAX_WINDOW_DAYS = 7;
/** How far ahead a notice may be posted. */
export const MAX_LEAD_DAYS = 366;
const DAY_MS = 86_400_000;

export type NoticeState = 'upcoming' | 'active' | 'over' | 'cancelled';

export interface MaintenanceNotice {
  id: string;
  /** `DEPT/slug`, or null for a platform-wide notice. */
  service: string | null;
  department: string | null;
  platformWide: boolean;
  title: string;
  message: string;
  startsAt: string;
  endsAt: string;
  state: NoticeState;
  createdBy: string;
  createdAt: string;
  cancelledAt: string | null;
}

export function noticeState(r: Pick<MaintenanceRow, 'starts_at' | 'ends_at' | 'cancelled_at'>, now: Date) {
  if (r.cancelled_at) return 'cancelled';
  if (r.ends_at <= now) return 'over';
  return r.starts_at <= now ? 'active' : 'upcoming';
}

/** Presents rows, looking up the `DEPT/slug` of the (few) services they name. */
async function present(db: Executor, rows: MaintenanceRow[], now: Date): Promise<MaintenanceNotice[]> {
  const ids = [...new Set(rows.map((r) => r.service_id).filter((id): id is string => id !== null))];
  const slugs = new Map<string, string>();
  for (const id of ids) {
    const s = await services.findById(db, id);
    if (s) slugs.set(id, `${s.department_code}/${s.slug}`);
  }
  const codes = await departmentCodes(
    db,
    rows.map((r) => r.department_id),
  );
  return rows.map((r) => ({
    id: r.id,
    service: r.service_id ? (slugs.get(r.service_id) ?? null) : null,
    department: r.department_id ? (codes.get(r.department_id) ?? null) : null,
    platformWide: r.service_id === null,
    title: r.title,
    message: r.message,
    startsAt: r.starts_at.toISOString(),
    endsAt: r.ends_at.toISOString(),
    state: noticeState(r, now),
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    cancelledAt: r.cancelled_at?.toISOString() ?? null,
  }));
}

/** A service written `DEPT/slug`. */
export function splitServiceRef(ref: string): { department: string; slug: string } {
  const m = /^([A-Za-z][A-Za-z0-9]{1,9})\/([a-z][a-z0-9-]{0,38}[a-z0-9])$/.exec(ref);
  if (!m?.[1] || !m[2]) {
    throw new DomainError(
      'GOVHOST_VALIDATION',
      `service must be written DEPT/slug, e.g. IRD/etax; got ${ref}`,
    );
  }
  return { department: m[1], slug: m[2] };
}

const duration = (ms: number) => {
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 24 ? `${Math.floor(hours / 24)} days ${hours % 24} hours` : `${hours} hours`;
};

export interface NewNotice {
  service?: string;
  platformWide?: boolean;
  title: string;
  message?: string;
  startsAt: string;
  endsAt: string;
}

/** Checks a window against the rules; throws a 400 naming the field at fault. */
export function validateWindow(startsAt: Date, endsAt: Date, now: Date): void {
  const bad = (field: string, message: string) =>
    new DomainError('GOVHOST_VALIDATION', `${field} ${message}`, {
      errors: [{ field: `body/${field}`, message }],
    });
  if (endsAt <= startsAt) throw bad('endsAt', `must be after startsAt (${startsAt.toISOString()})`);
  const length = endsAt.getTime() - startsAt.getTime();
  if (length > MAX_WINDOW_DAYS * DAY_MS) {
    throw bad(
      'endsAt',
      `makes a window of ${duration(length)}; one notice may cover at most ${MAX_WINDOW_DAYS} days`,
    );
  }
  if (endsAt <= now) throw bad('endsAt', `is in the past: a notice announces work that is not over yet`);
  if (startsAt.getTime() > now.getTime() + MAX_LEAD_DAYS * DAY_MS) {
    throw bad('startsAt', `is more than ${MAX_LEAD_DAYS} days ahead`);
  }
}

export async function createNotice(
  db: Db,
  caller: Caller,
  input: NewNotice,
  now = new Date(),
): Promise<MaintenanceNotice> {
  authorize(caller, 'maintenance:write');
  if (Boolean(input.service) === Boolean(input.platformWide)) {
    throw new DomainError(
      'GOVHOST_VALIDATION',
      'give either service (DEPT/slug) or platformWide: true, not both and not neither',
    );
  }
  const startsAt = new Date(input.startsAt);
  const endsAt = new Date(input.endsAt);
  validateWindow(startsAt, endsAt, now);
  const target = input.service ? splitServiceRef(input.service) : null;
  return db.transaction().execute(async (trx) => {
    const service = target ? await resolveService(trx, caller, target.department, target.slug) : null;
    const row = await repo.insert(trx, {
      service_id: service?.id ?? null,
      department_id: service?.department_id ?? null,
      title: input.title,
      message: input.message ?? '',
      starts_at: startsAt,
      ends_at: endsAt,
      created_by: caller.username,
    });
    const [notice] = await present(trx, [row], now);
    await recordChange(trx, auditContext(caller), {
      action: 'maintenance.create',
      targetType: 'maintenance',
      targetId: row.id,
      departmentId: row.department_id,
      after: notice,
    });
    return notice as MaintenanceNotice;
  });
}

export async function listNotices(
  db: Db,
  caller: Principal,
  page: Page,
  filter: { service?: string; include?: 'current' | 'all' },
  now = new Date(),
): Promise<PageOf<MaintenanceNotice>> {
  authorize(caller, 'monitoring:read');
  let serviceId: string | undefined;
  if (filter.service) {
    const ref = splitServiceRef(filter.service);
    serviceId = (await resolveService(db, caller, ref.department, ref.slug)).id;
  }
  const { items, total } = await repo.list(db, departmentScope(caller), page, {
    serviceId,
    currentAt: filter.include === 'all' ? undefined : now,
  });
  return { items: await present(db, items, now), total, ...page };
}

/** Cancels a notice not yet over; one under way ends now (its past part stays excluded from SLA). */
export async function cancelNotice(db: Db, caller: Caller, id: string, now = new Date()) {
  authorize(caller, 'maintenance:write');
  return db.transaction().execute(async (trx) => {
    const row = await repo.find(trx, departmentScope(caller), id);
    if (!row) throw new DomainError('GOVHOST_MAINTENANCE_NOT_FOUND', `no maintenance notice ${id}`);
    const state = noticeState(row, now);
    if (state === 'cancelled' || state === 'over') {
      throw new DomainError(
        'GOVHOST_MAINTENANCE_CLOSED',
        state === 'over'
          ? `maintenance notice ${id} ended at ${row.ends_at.toISOString()}; a past window stays on record`
          : `maintenance notice ${id} was cancelled at ${row.cancelled_at?.toISOString()}`,
      );
    }
    const [before] = await present(trx, [row], now);
    const [after] = await present(trx, [await repo.cancel(trx, id, now)], now);
    await recordChange(trx, auditContext(caller), {
      action: 'maintenance.cancel',
      targetType: 'maintenance',
      targetId: id,
      departmentId: row.department_id,
      before,
      after,
    });
    return after as MaintenanceNotice;
  });
}
