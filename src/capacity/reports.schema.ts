import { Type } from 'typebox';
import { DepartmentCode, Timestamp, Uuid } from '../platform/http-schemas.ts';
import { PageQuery } from '../platform/pagination.ts';
import { FARM_STATES } from './capacity.tables.ts';
import { DEMAND_KINDS } from './demand.tables.ts';
import { MONTH_PATTERN } from './month.ts';

const Num = Type.Number();
const NullableNum = Type.Union([Type.Number(), Type.Null()]);
const NullableStr = Type.Union([Type.String(), Type.Null()]);
export const Month = Type.String({ pattern: MONTH_PATTERN, description: 'A calendar month, YYYY-MM (UTC)' });
const Scenario = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}$',
  description: 'A what-if scenario name; lines without one are the baseline',
});
const Kind = Type.Enum([...DEMAND_KINDS]);
const State = Type.Enum([...FARM_STATES]);
const Pair = (a: string, b: string, nullable = false) =>
  Type.Object({ [a]: nullable ? NullableNum : Num, [b]: nullable ? NullableNum : Num });

// ---- demand pipeline ----

export const PlannedDemand = Type.Object({
  id: Uuid,
  kind: Kind,
  department: NullableStr,
  services: Num,
  instancesPerService: Num,
  memoryMbPerInstance: Num,
  cpuPerInstance: Num,
  storageMbPerInstance: Num,
  growthPctPerMonth: NullableNum,
  goLive: Month,
  scenario: NullableStr,
  note: Type.String(),
  sourceId: NullableStr,
  slaTier: NullableStr,
  totalMemoryMb: Num,
  totalCpu: Num,
  totalStorageMb: Num,
  createdAt: Timestamp,
});

export const NewDemand = Type.Object(
  {
    kind: Kind,
    department: Type.Optional(DepartmentCode),
    services: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    instancesPerService: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    memoryMbPerInstance: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 16 * 1024 * 1024, description: 'MB per instance' }),
    ),
    cpuPerInstance: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1024, description: 'Share of one CPU per instance' }),
    ),
    storageMbPerInstance: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1024 * 1024 * 1024, description: 'Disk per instance, MB' }),
    ),
    growthPctPerMonth: Type.Optional(
      Type.Number({ minimum: -100, maximum: 1000, description: 'growth lines: % a month, compounded' }),
    ),
    goLive: Month,
    scenario: Type.Optional(Scenario),
    note: Type.Optional(Type.String({ maxLength: 500 })),
    slaTier: Type.Optional(
      Type.Union([Type.Literal('gold'), Type.Literal('silver'), Type.Literal('bronze')], {
        description: 'SLA tier of the services: gold ones are spread over two farms',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DemandQuery = Type.Object({
  ...PageQuery,
  scenario: Type.Optional(Scenario),
  kind: Type.Optional(Kind),
  department: Type.Optional(DepartmentCode),
});

// ---- forecast ----

export const ForecastQuery = Type.Object({
  from: Type.Optional(Month),
  months: Type.Integer({ minimum: 1, maximum: 120, default: 36 }),
  target: Type.Number({
    // Below 5 % a target plans dozens of idle farms per busy one: a typo, not a plan.
    minimum: 0.05,
    maximum: 1,
    default: 0.8,
    description: 'Utilisation not to pass, a fraction (0.8 = 80 %)',
  }),
  leadMonths: Type.Integer({
    minimum: 0,
    maximum: 60,
    default: 3,
    description: 'Months from order to service',
  }),
  scenario: Type.Optional(Scenario),
});

const Recommendation = Type.Object({
  farm: Num,
  resource: Type.Enum(['cpu', 'memory', 'storage']),
  neededFor: Month,
  commissionBy: Month,
  orderBy: Month,
  late: Type.Boolean(),
});

export const Forecast = Type.Object({
  from: Month,
  months: Num,
  target: Num,
  leadMonths: Num,
  scenario: NullableStr,
  referenceFarm: Type.Union([
    Type.Object({ code: Type.String(), vcpu: Num, memoryMb: Num, storageGb: Num }),
    Type.Null(),
  ]),
  runsOut: Type.Object({
    cpu: Type.Union([Month, Type.Null()]),
    memory: Type.Union([Month, Type.Null()]),
    storage: Type.Union([Month, Type.Null()]),
  }),
  recommendations: Type.Array(Recommendation),
  scheduledFarms: Type.Array(
    Type.Object({ code: Type.String(), state: State, orderedOn: NullableStr, activeFrom: NullableStr }),
  ),
  pipelineLines: Num,
  series: Type.Array(
    Type.Object({
      month: Month,
      farmsActive: Num,
      cpu: Type.Object({ demand: Num, capacity: Num, utilisation: NullableNum }),
      memory: Type.Object({ demandMb: Num, capacityMb: Num, utilisation: NullableNum }),
      storage: Type.Object({ demandGb: Num, capacityGb: Num, utilisation: NullableNum }),
      withRecommended: Type.Object({
        farms: Num,
        cpuUtilisation: NullableNum,
        memoryUtilisation: NullableNum,
        storageUtilisation: NullableNum,
      }),
      actions: Type.Array(Type.String()),
    }),
  ),
});

// ---- sharing ----

export const SharingQuery = Type.Object({
  hours: Type.Integer({ minimum: 1, maximum: 24 * 31, default: 24, description: 'Hours of measurements' }),
});

export const Sharing = Type.Object({
  generatedAt: Timestamp,
  measuredSince: Timestamp,
  farms: Type.Array(
    Type.Object({
      code: Type.String(),
      name: Type.String(),
      state: State,
      capacity: Pair('vcpu', 'memoryMb'),
      overcommit: Pair('cpu', 'memory'),
      services: Num,
      instances: Num,
      reserved: Pair('cpu', 'memoryMb'),
      reservedShare: Pair('cpu', 'memory', true),
      measured: Type.Object({ servicesMeasured: Num, cpu: Num, memoryMb: Num }),
      usedOfReserved: Pair('cpu', 'memory', true),
    }),
  ),
  totals: Type.Object({
    activeFarms: Num,
    farmsHoldingServices: Num,
    services: Num,
    instances: Num,
    servicesPerActiveFarm: NullableNum,
    capacity: Pair('vcpu', 'memoryMb'),
    reserved: Pair('cpu', 'memoryMb'),
    reservedShare: Pair('cpu', 'memory', true),
    measured: Pair('cpu', 'memoryMb'),
  }),
  departments: Type.Array(
    Type.Object({
      department: Type.String(),
      services: Num,
      instances: Num,
      reserved: Pair('cpu', 'memoryMb'),
      plannedServices: Num,
      farmsAlone: NullableNum,
    }),
  ),
  standalone: Type.Object({
    method: Type.String(),
    target: Num,
    referenceFarm: Type.Union([
      Type.Object({ code: Type.String(), vcpu: Num, memoryMb: Num, costHkd: Num }),
      Type.Null(),
    ]),
    farmsIfAlone: NullableNum,
    farmsShared: NullableNum,
    farmsAvoided: NullableNum,
    costPerFarmHkd: Num,
    costBasis: Type.String(),
    costAvoidedHkd: NullableNum,
  }),
});

// ---- energy ----

export const EnergyQuery = Type.Object({ month: Month });

export const Energy = Type.Object({
  month: Month,
  hoursInMonth: Num,
  partial: Type.Boolean(),
  farms: Type.Array(
    Type.Object({
      code: Type.String(),
      state: State,
      hours: Num,
      basis: Type.Enum(['measured', 'reserved']),
      cpu: Num,
      vcpu: Num,
      utilisation: Num,
      idleWatts: Num,
      maxWatts: Num,
      watts: Num,
      kWh: Num,
      services: Type.Array(
        Type.Object({ service: Type.String(), department: Type.String(), cpu: Num, share: Num, kWh: Num }),
      ),
      unallocatedKWh: Num,
    }),
  ),
  totals: Type.Object({ farms: Num, kWh: Num, unallocatedKWh: Num }),
});
