import { Type } from 'typebox';
import { DepartmentCode } from '../platform/http-schemas.ts';
import { PageQuery } from '../platform/pagination.ts';
import { MULTILINE } from '../platform/validation.ts';
import { COMPLEXITIES, ITEM_STATES } from './migration.tables.ts';

export const ItemState = Type.Enum(ITEM_STATES, {
  description:
    'inventoried → assessed → scheduled → migrating → parallel-run → cut-over → decommissioned, or blocked (with a reason)',
});
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Ref = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: "The item's reference in its department, e.g. EGIS-0001",
});

export const Item = Type.Object({
  id: Type.String({ description: 'DEPT/ref' }),
  department: Type.String(),
  ref: Type.String(),
  name: Type.String(),
  sourcePlatform: Type.String(),
  legacyUrl: Nullable(Type.String()),
  contacts: Type.Array(Type.String()),
  technology: Nullable(Type.String()),
  dataSizeGb: Nullable(Type.Number()),
  complexity: Nullable(Type.String()),
  targetService: Nullable(Type.String({ description: 'DEPT/slug of the GovHost service' })),
  wave: Nullable(Type.Integer()),
  plannedOn: Nullable(Type.String()),
  state: ItemState,
  blockedReason: Nullable(Type.String()),
  blockedFrom: Nullable(ItemState),
  nextStates: Type.Array(ItemState, { description: 'Where the item may move now' }),
  cutOverAt: Nullable(Type.String({ format: 'date-time' })),
  stateChangedAt: Type.String({ format: 'date-time' }),
  dependsOn: Type.Array(Type.Object({ item: Type.String(), state: ItemState })),
});

export const ItemWithSteps = Type.Intersect([
  Item,
  Type.Object({
    steps: Type.Array(
      Type.Object({
        from: Nullable(ItemState),
        to: ItemState,
        reason: Nullable(Type.String()),
        by: Type.String(),
        at: Type.String({ format: 'date-time' }),
      }),
    ),
  }),
]);

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  sourcePlatform: Type.String({ minLength: 1, maxLength: 60, description: 'e.g. EGIS' }),
  legacyUrl: Type.Optional(
    Nullable(Type.String({ maxLength: 2000, description: "The legacy service's base URL" })),
  ),
  contacts: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20 })),
  technology: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  dataSizeGb: Type.Optional(Nullable(Type.Number({ minimum: 0 }))),
  complexity: Type.Optional(Nullable(Type.Enum(COMPLEXITIES, { description: 'null until assessed' }))),
  targetService: Type.Optional(
    Nullable(Type.String({ maxLength: 40, description: 'slug of the GovHost service' })),
  ),
  wave: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 999 }))),
  plannedOn: Type.Optional(Nullable(Day)),
  dependsOn: Type.Optional(
    Type.Array(Type.String({ maxLength: 80 }), { maxItems: 100, description: 'ref or DEPT/ref' }),
  ),
};

export const NewItem = Type.Object(
  { department: Type.Optional(DepartmentCode), ref: Ref, ...fields },
  { additionalProperties: false },
);
export const ItemPatch = Type.Partial(Type.Object(fields), { additionalProperties: false });
export const ItemParams = Type.Object({ department: DepartmentCode, ref: Ref });
export const Move = Type.Object(
  { to: ItemState, reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export const ImportCsv = Type.Object(
  {
    csv: Type.String({
      minLength: 1,
      [MULTILINE]: true,
      // Below the default body limit (1 MiB): thousands of rows; a bigger inventory goes in parts.
      maxLength: 900_000,
      description: 'The inventory as CSV, header line first (docs/migration.md)',
    }),
  },
  { additionalProperties: false },
);
export const ItemQuery = Type.Object({
  ...PageQuery,
  department: Type.Optional(DepartmentCode),
  wave: Type.Optional(Type.Integer({ minimum: 1, maximum: 999 })),
  state: Type.Optional(ItemState),
});

export const Wave = Type.Object({
  number: Type.Integer(),
  name: Type.String(),
  plannedStart: Type.String(),
  plannedEnd: Type.String(),
  items: Type.Integer(),
  byState: Type.Record(Type.String(), Type.Integer()),
});
export const WaveParams = Type.Object({ number: Type.Integer({ minimum: 1, maximum: 999 }) });
export const WaveInput = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), plannedStart: Day, plannedEnd: Day },
  { additionalProperties: false },
);

const Month = Type.Object({
  month: Type.String(),
  plannedRemaining: Type.Integer(),
  actualRemaining: Nullable(Type.Integer()),
});
const Curve = { total: Type.Integer(), remaining: Type.Integer(), months: Type.Array(Month) };
export const Burndown = Type.Object({
  asOf: Type.String({ description: 'The current month: actual figures stop here' }),
  byState: Type.Record(Type.String(), Type.Integer()),
  overall: Type.Object(Curve),
  waves: Type.Array(
    Type.Object({
      number: Type.Integer(),
      name: Type.String(),
      plannedStart: Type.String(),
      plannedEnd: Type.String(),
      ...Curve,
    }),
  ),
  departments: Type.Array(
    Type.Object({
      department: Type.String(),
      items: Type.Integer(),
      remaining: Type.Integer(),
      plannedLastMonth: Nullable(Type.String()),
      actualLastMonth: Nullable(Type.String()),
    }),
  ),
});
