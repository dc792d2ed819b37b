import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type { RuleName, RuleOverride } from './alert-rules.ts';
import type { AlertTable } from './monitoring.tables.ts';

export type AlertRow = Omit<AlertTable, 'id'> & { id: string };

// ---- rule overrides ----

export interface OverrideRow extends RuleOverride {
  serviceId: string;
  rule: RuleName;
}

export async function allOverrides(db: Executor): Promise<OverrideRow[]> {
  const rows = await db.selectFrom('alert_rule_overrides').selectAll().execute();
  return rows.map((r) => ({
    serviceId: r.service_id,
    rule: r.rule as RuleName,
    enabled: r.enabled,
    threshold: r.threshold,
    forSeconds: r.for_seconds,
    clearSeconds: r.clear_seconds,
  }));
}

export async function overridesOf(db: Executor, serviceId: string): Promise<Map<RuleName, RuleOverride>> {
  const rows = await db
    .selectFrom('alert_rule_overrides')
    .selectAll()
    .where('service_id', '=', serviceId)
    .execute();
  return new Map(
    rows.map((r) => [
      r.rule as RuleName,
      {
        enabled: r.enabled,
        threshold: r.threshold,
        forSeconds: r.for_seconds,
        clearSeconds: r.clear_seconds,
      },
    ]),
  );
}

export async function putOverride(
  db: Executor,
  serviceId: string,
  rule: RuleName,
  o: RuleOverride,
): Promise<void> {
  const values = {
    enabled: o.enabled,
    threshold: o.threshold,
    for_seconds: o.forSeconds,
    clear_seconds: o.clearSeconds,
    updated_at: new Date(),
  };
  await db
    .insertInto('alert_rule_overrides')
    .values({ service_id: serviceId, rule, ...values })
    .onConflict((oc) => oc.columns(['service_id', 'rule']).doUpdateSet(values))
    .execute();
}

export async function deleteOverride(db: Executor, serviceId: string, rule: RuleName): Promise<boolean> {
  const r = await db
    .deleteFrom('alert_rule_overrides')
    .where('service_id', '=', serviceId)
    .where('rule', '=', rule)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---- alerts ----

export async function insertAlert(db: Executor, row: Omit<AlertRow, 'id'>): Promise<AlertRow> {
  return db.insertInto('alerts').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Resolves the firing alert of a service's rule; returns it, or undefined when none fired. */
export async function resolveAlert(
  db: Executor,
  serviceId: string,
  rule: string,
  at: Date,
): Promise<AlertRow | undefined> {
  return db
    .updateTable('alerts')
    .set((eb) => ({ state: 'resolved', resolved_at: eb.fn('greatest', ['started_at', eb.val(at)]) }))
    .where('service_id', '=', serviceId)
    .where('rule', '=', rule)
    .where('state', '=', 'firing')
    .returningAll()
    .executeTakeFirst();
}

export async function firingAlerts(
  db: Executor,
  scope: string | null = null,
  serviceId?: string,
): Promise<AlertRow[]> {
  let q = db.selectFrom('alerts').selectAll().where('state', '=', 'firing');
  if (scope !== null) q = q.where('department_id', '=', scope);
  if (serviceId) q = q.where('service_id', '=', serviceId);
  return q.orderBy('started_at', 'desc').execute();
}

export async function listAlerts(
  db: Executor,
  scope: string | null,
  filter: { state: 'firing' | 'resolved' | 'all'; serviceId?: string },
  page: Page,
) {
  let q = db.selectFrom('alerts');
  if (scope !== null) q = q.where('department_id', '=', scope);
  if (filter.state !== 'all') q = q.where('state', '=', filter.state);
  if (filter.serviceId) q = q.where('service_id', '=', filter.serviceId);
  const items = await q
    .selectAll()
    .orderBy('started_at', 'desc')
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { items, total: Number(n) };
}
