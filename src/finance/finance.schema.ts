import { Type } from 'typebox';
import { MONTH_PATTERN } from '../capacity/month.ts';

/** Integer HK$ thousands, one a financial year. */
const ByYear = Type.Array(Type.Integer({ minimum: 0, maximum: 100_000_000 }), { maxItems: 40 });
const Year = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}$',
  description: 'Financial year, April to March, e.g. 2011-12',
});

export const ScenarioName = Type.String({
  pattern: '^[a-z][a-z0-9-]{0,38}[a-z0-9]$',
  description: 'Lower-case letters, digits and hyphens, 2-40 characters',
});

export const CostModel = Type.Object(
  {
    years: Type.Array(Year, { minItems: 1, maxItems: 40 }),
    nonRecurring: Type.Object(
      {
        hardwareSoftware: ByYear,
        systemDevelopment: ByYear,
        implementation: ByYear,
        contingency: Type.Union([
          Type.Object({ amounts: ByYear }, { additionalProperties: false }),
          Type.Object(
            { rate: Type.Number({ minimum: 0, maximum: 1, description: '0.1 is 10% of (a) to (c)' }) },
            { additionalProperties: false },
          ),
        ]),
        staff: ByYear,
      },
      { additionalProperties: false },
    ),
    recurring: Type.Object(
      { maintenance: ByYear, support: ByYear, staff: ByYear },
      { additionalProperties: false },
    ),
    savings: Type.Object(
      { oneOffAvoidable: ByYear, recurringRealisable: ByYear },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, description: 'Amounts in integer HK$ thousands by financial year' },
);

const Description = Type.String({ maxLength: 500 });

export const Scenario = Type.Object({
  name: Type.String(),
  description: Type.String(),
  builtIn: Type.Boolean(),
  basedOn: Type.Union([Type.String(), Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  model: CostModel,
});

export const NewScenario = Type.Object(
  {
    name: ScenarioName,
    from: Type.Optional({ ...ScenarioName, description: 'Scenario to copy (default paper)' }),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);

export const ScenarioEdit = Type.Object(
  { model: CostModel, description: Type.Optional(Description) },
  { additionalProperties: false },
);

export const ScenarioParams = Type.Object({ name: Type.String({ maxLength: 40 }) });

const AnnexRow = Type.Object({
  key: Type.String(),
  section: Type.String(),
  labelEn: Type.String(),
  labelZh: Type.String(),
  sum: Type.Boolean(),
  byYear: Type.Array(Type.Integer()),
  total: Type.Union([Type.Integer(), Type.Null()]),
});

export const BusinessCase = Type.Object({
  scenario: Type.String(),
  years: Type.Array(Type.String()),
  unit: Type.Literal('HK$ thousands'),
  annex: Type.Array(AnnexRow),
  detail: Type.Array(AnnexRow),
  totals: Type.Object({ cost: Type.Integer(), savings: Type.Integer(), net: Type.Integer() }),
});

export const BusinessCaseQuery = Type.Object(
  { scenario: Type.Optional(Type.String({ maxLength: 40, description: 'default paper' })) },
  { additionalProperties: false },
);

const Num = Type.Number();
const NullableNum = Type.Union([Type.Number(), Type.Null()]);

export const Sharing = Type.Object({
  method: Type.String(),
  target: Num,
  referenceFarm: Type.Union([
    Type.Object({ code: Type.String(), vcpu: Num, memoryMb: Num, costHkd: Num }),
    Type.Null(),
  ]),
  departments: Type.Array(
    Type.Object({
      department: Type.String(),
      services: Num,
      reservedServices: Num,
      plannedServices: Num,
      memoryMb: Num,
      cpu: Num,
      farmsAlone: Num,
    }),
  ),
  farmsAlone: NullableNum,
  farmsShared: NullableNum,
  farmsAvoided: NullableNum,
  costPerFarmHkd: Num,
  costBasis: Type.String(),
  costAvoidedHkd: NullableNum,
  paper: Type.Object({ farmsAvoided: Num, farmCostHkd: Num, savingsHkd: Num }),
});

const Resource = Type.Union([
  Type.Literal('memory-gb-hour'),
  Type.Literal('cpu-hour'),
  Type.Literal('storage-gb-hour'),
  Type.Literal('request-thousand'),
  Type.Literal('staging-minute'),
]);

export const Rate = Type.Object({
  resource: Resource,
  validFrom: Type.String(),
  centsPerUnit: Num,
  note: Type.String(),
  createdBy: Type.String(),
});

export const NewRate = Type.Object(
  {
    resource: Resource,
    validFrom: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'First day (UTC), today or later',
    }),
    centsPerUnit: Type.Number({
      minimum: 0,
      maximum: 1_000_000,
      description: 'HK cents per GB-hour, CPU-hour, thousand requests or minute of staging',
    }),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const StatementQuery = Type.Object(
  {
    department: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{1,9}$', description: 'Department code' }),
    month: Type.String({ pattern: MONTH_PATTERN, description: 'YYYY-MM (UTC)' }),
    format: Type.Optional(Type.Enum(['json', 'csv'] as const)),
  },
  { additionalProperties: false },
);

export const Statement = Type.Object({
  department: Type.String(),
  month: Type.String(),
  partial: Type.Boolean(),
  pricedTo: Type.String(),
  lines: Type.Array(
    Type.Object({
      service: Type.String(),
      resource: Resource,
      rateFrom: Type.String(),
      centsPerUnit: Num,
      quantity: Num,
      amountCents: Type.Integer(),
    }),
  ),
  unpricedHours: Num,
  adjustments: Type.Array(
    Type.Object({
      forMonth: Type.Union([Type.String(), Type.Null()]),
      amountCents: Type.Integer(),
      reason: Type.String(),
      by: Type.String(),
      at: Type.String(),
    }),
  ),
  closed: Type.Boolean(),
  closedAt: Type.Union([Type.String(), Type.Null()]),
  totalCents: Type.Integer(),
});

const MonthString = Type.String({ pattern: MONTH_PATTERN, description: 'YYYY-MM (UTC)' });

export const MonthParams = Type.Object({ month: MonthString });

export const Closed = Type.Object({
  month: Type.String(),
  departments: Type.Integer(),
  totalCents: Type.Integer(),
});

export const NewAdjustment = Type.Object(
  {
    department: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{1,9}$' }),
    month: MonthString,
    forMonth: Type.Optional(MonthString),
    amountCents: Type.Integer({
      minimum: -100_000_000_000,
      maximum: 100_000_000_000,
      description: 'HK cents, not 0',
    }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

export const ExpectedQuery = Type.Object(
  {
    department: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{1,9}$', description: 'Department code' }),
    year: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}$', description: 'Financial year, e.g. 2027-28' }),
  },
  { additionalProperties: false },
);

export const Expected = Type.Object({
  department: Type.String(),
  year: Type.String(),
  months: Type.Array(
    Type.Object({ month: Type.String(), memoryMb: Num, cpu: Num, storageMb: Num, cents: Num }),
  ),
  totalCents: Type.Integer(),
  unpriced: Type.Boolean(),
});

const Period = Type.Union([Type.Literal('month'), Type.Literal('year')], {
  description: 'month (UTC calendar month) or year (financial year, April to March)',
});

export const Budget = Type.Object({
  department: Type.String(),
  period: Period,
  amountCents: Type.Integer(),
  thresholds: Type.Array(Type.Integer()),
  setBy: Type.String(),
  setAt: Type.String(),
  periodKey: Type.String(),
  spentCents: Type.Integer(),
  share: Num,
  alerts: Type.Array(
    Type.Object({ threshold: Type.Integer(), spentCents: Type.Integer(), at: Type.String() }),
  ),
});

export const BudgetQuery = Type.Object(
  {
    department: Type.Optional(
      Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{1,9}$', description: 'Department code' }),
    ),
  },
  { additionalProperties: false },
);

export const BudgetParams = Type.Object({
  department: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{1,9}$' }),
  period: Period,
});

export const BudgetEdit = Type.Object(
  {
    amountCents: Type.Integer({ minimum: 1, maximum: 100_000_000_000, description: 'HK cents' }),
    thresholds: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), {
        minItems: 1,
        maxItems: 10,
        description: 'Percentages of the budget to be told at (default 80 and 100)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const RateProposalQuery = Type.Object(
  {
    scenario: Type.Optional(Type.String({ maxLength: 40, description: 'default paper' })),
    year: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}$',
      description: "The scenario's financial year, e.g. 2015-16",
    }),
    utilisation: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Share of capacity sold (default 0.8)' }),
    ),
    memoryShare: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'Share of the cost put on memory (default 0.5), the rest on CPU',
      }),
    ),
  },
  { additionalProperties: false },
);

export const RateAdoption = Type.Object(
  {
    ...RateProposalQuery.properties,
    validFrom: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'First day (UTC) of the adopted rates, today or later',
    }),
  },
  { additionalProperties: false },
);

export const RateProposal = Type.Object({
  scenario: Type.String(),
  year: Type.String(),
  recurringCostCents: Type.Integer(),
  hours: Type.Integer(),
  capacity: Type.Object({ cpu: Num, memoryGb: Num }),
  utilisation: Num,
  memoryShare: Num,
  rates: Type.Array(
    Type.Object({
      resource: Type.Union([Type.Literal('memory-gb-hour'), Type.Literal('cpu-hour')]),
      centsPerUnit: Num,
      recoversCents: Type.Integer(),
    }),
  ),
});

export const AdoptedRates = Type.Object({ proposal: RateProposal, rates: Type.Array(Rate) });
