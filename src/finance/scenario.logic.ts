import { recordChange } from '../audit/audit.logic.ts';
import type { Db } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { type BusinessCase, businessCase, type CostModel } from './cost-model.ts';
import { PAPER_MODEL } from './paper.ts';
import * as repo from './scenario.repository.ts';

/** The built-in scenario: the paper's figures as printed, read-only. */
export const PAPER_SCENARIO = 'paper';

export interface Scenario {
  name: string;
  description: string;
  builtIn: boolean;
  basedOn: string | null;
  updatedBy: string | null;
  updatedAt: string | null;
  model: CostModel;
}

const paper: Scenario = {
  name: PAPER_SCENARIO,
  description: 'The Finance Committee paper (April 2011): paragraphs 12-25 and the annex, as printed',
  builtIn: true,
  basedOn: null,
  updatedBy: null,
  updatedAt: null,
  model: PAPER_MODEL,
};

/** Business cases are the central team's: a department reads its own usage and statements only. */
export function authorizeCentral(caller: Principal, permission: 'finance:read' | 'finance:write') {
  authorize(caller, permission);
  if (departmentScope(caller) !== null)
    throw new DomainError(
      'GOVHOST_FORBIDDEN',
      "business cases are the central team's: a department reads its own usage and statements",
    );
}

const toScenario = (r: NonNullable<Awaited<ReturnType<typeof repo.findScenario>>>): Scenario => ({
  name: r.name,
  description: r.description,
  builtIn: false,
  basedOn: r.based_on,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
  model: r.model,
});

async function find(db: Db, name: string): Promise<Scenario> {
  if (name === PAPER_SCENARIO) return paper;
  const row = await repo.findScenario(db, name);
  if (!row) throw new DomainError('GOVHOST_FINANCE_SCENARIO_NOT_FOUND', `no scenario named ${name}`);
  return toScenario(row);
}

export async function listScenarios(db: Db, caller: Principal): Promise<Scenario[]> {
  authorizeCentral(caller, 'finance:read');
  return [paper, ...(await repo.listScenarios(db)).map(toScenario)];
}

export async function getScenario(db: Db, caller: Principal, name: string): Promise<Scenario> {
  authorizeCentral(caller, 'finance:read');
  return find(db, name);
}

/** The annex of a scenario's cost model. */
export async function scenarioBusinessCase(
  db: Db,
  caller: Principal,
  name: string,
): Promise<BusinessCase & { scenario: string }> {
  authorizeCentral(caller, 'finance:read');
  return { scenario: name, ...businessCase((await find(db, name)).model) };
}

const invalid = (detail: string) => new DomainError('GOVHOST_FINANCE_INVALID', detail);

/** Every line has one amount a year; years follow each other (2011-12, 2012-13, ...). */
export function checkModel(model: CostModel): void {
  const n = model.years.length;
  model.years.forEach((y, i) => {
    const start = Number(y.slice(0, 4));
    if (Number(y.slice(5)) !== (start + 1) % 100)
      throw invalid(`years[${i}] ${y} is not a financial year like 2011-12`);
    const prev = model.years[i - 1];
    if (prev && Number(prev.slice(0, 4)) + 1 !== start)
      throw invalid(`years[${i}] ${y} does not follow ${prev}`);
  });
  const lines: [string, number[]][] = [
    ...Object.entries(model.nonRecurring).flatMap(([k, v]) =>
      Array.isArray(v) ? [[`nonRecurring.${k}`, v] as [string, number[]]] : [],
    ),
    ...Object.entries(model.recurring).map(([k, v]) => [`recurring.${k}`, v] as [string, number[]]),
    ...Object.entries(model.savings).map(([k, v]) => [`savings.${k}`, v] as [string, number[]]),
  ];
  const c = model.nonRecurring.contingency;
  if ('amounts' in c) lines.push(['nonRecurring.contingency.amounts', c.amounts]);
  for (const [key, v] of lines)
    if (v.length !== n) throw invalid(`${key} has ${v.length} amounts for ${n} years`);
}

export async function copyScenario(
  db: Db,
  caller: Caller,
  input: { name: string; from?: string; description?: string },
): Promise<Scenario> {
  authorizeCentral(caller, 'finance:write');
  if (input.name === PAPER_SCENARIO)
    throw new DomainError('GOVHOST_FINANCE_SCENARIO_EXISTS', 'paper is built in');
  const from = await find(db, input.from ?? PAPER_SCENARIO);
  const description = input.description ?? `a copy of ${from.name}`;
  await db
    .transaction()
    .execute(async (trx) => {
      await repo.insertScenario(trx, {
        name: input.name,
        description,
        basedOn: from.name,
        model: from.model,
        by: caller.username,
      });
      await recordChange(trx, auditContext(caller), {
        action: 'finance-scenario.create',
        targetType: 'finance-scenario',
        targetId: input.name,
        departmentId: null,
        after: { basedOn: from.name, description },
      });
    })
    .catch((err: unknown) => {
      if (isUniqueViolation(err))
        throw new DomainError('GOVHOST_FINANCE_SCENARIO_EXISTS', `a scenario named ${input.name} exists`);
      throw err;
    });
  return find(db, input.name);
}

/** Replaces a copied scenario's model (and description): the paper's stays as printed. */
export async function editScenario(
  db: Db,
  caller: Caller,
  name: string,
  input: { model: CostModel; description?: string },
): Promise<Scenario> {
  authorizeCentral(caller, 'finance:write');
  if (name === PAPER_SCENARIO) throw new DomainError('GOVHOST_FINANCE_SCENARIO_READ_ONLY');
  checkModel(input.model);
  await db.transaction().execute(async (trx) => {
    const before = await repo.findScenario(trx, name);
    if (!before) throw new DomainError('GOVHOST_FINANCE_SCENARIO_NOT_FOUND', `no scenario named ${name}`);
    const description = input.description ?? before.description;
    await repo.updateScenario(trx, name, { description, model: input.model, by: caller.username });
    await recordChange(trx, auditContext(caller), {
      action: 'finance-scenario.update',
      targetType: 'finance-scenario',
      targetId: name,
      departmentId: null,
      before: { description: before.description, model: before.model },
      after: { description, model: input.model },
    });
  });
  return find(db, name);
}

export async function removeScenario(db: Db, caller: Caller, name: string): Promise<void> {
  authorizeCentral(caller, 'finance:write');
  if (name === PAPER_SCENARIO) throw new DomainError('GOVHOST_FINANCE_SCENARIO_READ_ONLY');
  await db.transaction().execute(async (trx) => {
    const gone = await repo.deleteScenario(trx, name);
    if (!gone.numDeletedRows)
      throw new DomainError('GOVHOST_FINANCE_SCENARIO_NOT_FOUND', `no scenario named ${name}`);
    await recordChange(trx, auditContext(caller), {
      action: 'finance-scenario.delete',
      targetType: 'finance-scenario',
      targetId: name,
      departmentId: null,
    });
  });
}
