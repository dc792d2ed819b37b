/** Alert rules of a service (tier defaults and overrides) and the alerts themselves, for the API. */
import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import type { SlaTier } from '../catalog/sla-tiers.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import type { AlertRow } from './alert.repository.ts';
import * as repo from './alert.repository.ts';
import {
  defaultRule,
  effectiveRule,
  hasThreshold,
  RULE_NAMES,
  RULE_UNITS,
  type RuleName,
  type RuleOverride,
  type Severity,
  severityOf,
} from './alert-rules.ts';
import { serviceRef } from './incident.logic.ts';

export interface AlertRuleView {
  rule: RuleName;
  enabled: boolean;
  threshold: number | null;
  unit: string | null;
  forSeconds: number;
  clearSeconds: number;
  /** `override` when the service has its own setting, else the tier's `default`. */
  source: 'default' | 'override';
  severity: Severity;
  defaults: { threshold: number | null; forSeconds: number; clearSeconds: number };
}

function view(tier: SlaTier, rule: RuleName, override: RuleOverride | undefined): AlertRuleView {
  const eff = effectiveRule(tier, rule, override);
  const base = defaultRule(tier, rule);
  return {
    rule,
    enabled: eff.enabled,
    threshold: eff.threshold,
    unit: RULE_UNITS[rule],
    forSeconds: eff.forSeconds,
    clearSeconds: eff.clearSeconds,
    source: override ? 'override' : 'default',
    severity: severityOf(tier, rule),
    defaults: { threshold: base.threshold, forSeconds: base.forSeconds, clearSeconds: base.clearSeconds },
  };
}

const tierOf = (t: string): SlaTier => (t === 'gold' || t === 'silver' ? t : 'bronze');

export async function listRules(
  db: Db,
  caller: Principal,
  department: string,
  slug: string,
): Promise<AlertRuleView[]> {
  authorize(caller, 'monitoring:read');
  const svc = await resolveService(db, caller, department, slug);
  const overrides = await repo.overridesOf(db, svc.id);
  return RULE_NAMES.map((r) => view(tierOf(svc.sla_tier), r, overrides.get(r)));
}

export async function getRule(
  db: Db,
  caller: Principal,
  department: string,
  slug: string,
  rule: RuleName,
): Promise<AlertRuleView> {
  authorize(caller, 'monitoring:read');
  const svc = await resolveService(db, caller, department, slug);
  return view(tierOf(svc.sla_tier), rule, (await repo.overridesOf(db, svc.id)).get(rule));
}

export interface RulePatch {
  enabled?: boolean;
  /** null: back to the tier's default threshold. */
  threshold?: number | null;
  forSeconds?: number | null;
  clearSeconds?: number | null;
}

/** Sets a service's override of one rule; fields not given keep their current value. */
export async function putRule(
  db: Db,
  caller: Caller,
  department: string,
  slug: string,
  rule: RuleName,
  patch: RulePatch,
): Promise<AlertRuleView> {
  authorize(caller, 'alerting:write');
  if (patch.threshold !== undefined && patch.threshold !== null && !hasThreshold(rule)) {
    throw new DomainError('GOVHOST_ALERT_RULE_INVALID', `rule ${rule} has no threshold: it fires on a state`);
  }
  if ((rule === 'error-rate' || rule === 'memory') && patch.threshold != null && patch.threshold > 100) {
    throw new DomainError('GOVHOST_ALERT_RULE_INVALID', `the ${rule} threshold is a percentage: 0-100`);
  }
  return db.transaction().execute(async (tx) => {
    const svc = await resolveService(tx, caller, department, slug);
    const tier = tierOf(svc.sla_tier);
    const current = (await repo.overridesOf(tx, svc.id)).get(rule);
    const next: RuleOverride = {
      enabled: patch.enabled ?? current?.enabled ?? true,
      threshold: patch.threshold !== undefined ? patch.threshold : (current?.threshold ?? null),
      forSeconds: patch.forSeconds !== undefined ? patch.forSeconds : (current?.forSeconds ?? null),
      clearSeconds: patch.clearSeconds !== undefined ? patch.clearSeconds : (current?.clearSeconds ?? null),
    };
    await repo.putOverride(tx, svc.id, rule, next);
    const after = view(tier, rule, next);
    await recordChange(tx, auditContext(caller), {
      action: 'alert-rule.set',
      targetType: 'alert-rule',
      targetId: `${svc.department_code}/${svc.slug}/${rule}`,
      departmentId: svc.department_id,
      before: view(tier, rule, current),
      after,
    });
    return after;
  });
}

/** Drops a service's override: the rule follows its tier's default again. */
export async function resetRule(
  db: Db,
  caller: Caller,
  department: string,
  slug: string,
  rule: RuleName,
): Promise<AlertRuleView> {
  authorize(caller, 'alerting:write');
  return db.transaction().execute(async (tx) => {
    const svc = await resolveService(tx, caller, department, slug);
    const tier = tierOf(svc.sla_tier);
    const current = (await repo.overridesOf(tx, svc.id)).get(rule);
    if (current) {
      await repo.deleteOverride(tx, svc.id, rule);
      await recordChange(tx, auditContext(caller), {
        action: 'alert-rule.reset',
        targetType: 'alert-rule',
        targetId: `${svc.department_code}/${svc.slug}/${rule}`,
        departmentId: svc.department_id,
        before: view(tier, rule, current),
        after: view(tier, rule, undefined),
      });
    }
    return view(tier, rule, undefined);
  });
}

export interface Alert {
  id: string;
  service: string;
  rule: RuleName;
  state: 'firing' | 'resolved';
  value: number | null;
  threshold: number | null;
  message: string;
  startedAt: string;
  resolvedAt: string | null;
}

export const presentAlert = (r: AlertRow): Alert => ({
  id: r.id,
  service: r.service_key,
  rule: r.rule as RuleName,
  state: r.state,
  value: r.value,
  threshold: r.threshold,
  message: r.message,
  startedAt: r.started_at.toISOString(),
  resolvedAt: r.resolved_at?.toISOString() ?? null,
});

export async function listAlerts(
  db: Db,
  caller: Principal,
  filter: { state: 'firing' | 'resolved' | 'all'; service?: string },
  page: Page,
): Promise<PageOf<Alert>> {
  authorize(caller, 'monitoring:read');
  const serviceId = filter.service ? (await serviceRef(db, caller, filter.service)).id : undefined;
  const { items, total } = await repo.listAlerts(
    db,
    departmentScope(caller),
    { state: filter.state, ...(serviceId ? { serviceId } : {}) },
    page,
  );
  return { items: items.map(presentAlert), total, ...page };
}

/**
 * The alerts firing now, for any part of the platform (status page, console): read from the store,
 * so it is right in any process. `departmentId` limits them to one department.
 */
export async function firingAlerts(db: Executor, departmentId: string | null = null): Promise<Alert[]> {
  return (await repo.firingAlerts(db, departmentId)).map(presentAlert);
}
