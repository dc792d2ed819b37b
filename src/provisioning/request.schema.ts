import { Type } from 'typebox';
import { Channel, Origin, SlaTier } from '../catalog/catalog.schema.ts';
import { DepartmentCode, Name, Slug, Timestamp, Uuid } from '../platform/http-schemas.ts';
import { MULTILINE } from '../platform/validation.ts';
import { REQUEST_STATES } from './provisioning.tables.ts';

export const RequestState = Type.Enum(REQUEST_STATES, {
  description: 'pending (in the operator queue), approved (provisioned), rejected, cancelled',
});
const Channels = Type.Array(Channel, { minItems: 1, maxItems: 2, uniqueItems: true });
const Environment = Type.Record(
  Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }),
  Type.String({ maxLength: 4096, [MULTILINE]: true }),
  {
    maxProperties: 50,
    description: 'Non-secret variables the service starts with (secrets: govhost env set --secret)',
  },
);

export const HostingRequest = Type.Object({
  id: Uuid,
  department: Type.String(),
  service: Type.String({ description: 'DEPT/slug' }),
  slug: Type.String(),
  nameEn: Type.String(),
  nameZh: Type.String(),
  description: Type.String(),
  origin: Origin,
  egisRef: Type.Union([Type.String(), Type.Null()]),
  channels: Type.Array(Channel),
  personalised: Type.Boolean(),
  slaTier: SlaTier,
  instances: Type.Integer(),
  memoryMb: Type.Integer(),
  cpu: Type.Number({ description: 'Share of one CPU reserved per instance' }),
  storageMb: Type.Integer({
    description: 'Expected disk per instance, MiB, reserved on a farm (0: not stated)',
  }),
  goLive: Type.String({ format: 'date' }),
  justification: Type.String(),
  environment: Type.Record(Type.String(), Type.String()),
  state: RequestState,
  reasons: Type.Array(Type.String(), { description: 'Why it waits for an operator' }),
  requestedBy: Type.String(),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  autoApproved: Type.Boolean(),
  rejectReason: Type.Union([Type.String(), Type.Null()]),
  hostname: Type.Union([Type.String(), Type.Null()], {
    description: 'Where citizens reach the service, once provisioned',
  }),
  submittedAt: Timestamp,
  approvedAt: Type.Union([Timestamp, Type.Null()], { description: 'Approved and provisioned: ready' }),
  rejectedAt: Type.Union([Timestamp, Type.Null()]),
  cancelledAt: Type.Union([Timestamp, Type.Null()]),
  leadTimeMs: Type.Union([Type.Integer(), Type.Null()], { description: 'Submission to ready, milliseconds' }),
  updatedAt: Timestamp,
});

export const NewRequest = Type.Object(
  {
    department: Type.Optional(DepartmentCode),
    slug: Slug,
    nameEn: Name,
    nameZh: Name,
    description: Type.Optional(Type.String({ maxLength: 2000, [MULTILINE]: true })),
    origin: Origin,
    egisRef: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    channels: Channels,
    personalised: Type.Optional(Type.Boolean()),
    slaTier: SlaTier,
    instances: Type.Integer({ minimum: 1, maximum: 100, description: 'Expected instances' }),
    memoryMb: Type.Integer({ minimum: 16, maximum: 16384, description: 'Memory per instance, MiB' }),
    cpu: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 64, description: 'CPU per instance (default 1)' }),
    ),
    storageMb: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1024 * 1024,
        description:
          "Expected disk per instance, MiB, reserved on a farm's storage until the first deploy (whose manifest disk_quota then applies)",
      }),
    ),
    goLive: Type.String({ format: 'date', description: 'Planned go-live, YYYY-MM-DD, today or later' }),
    justification: Type.Optional(Type.String({ maxLength: 4000, [MULTILINE]: true })),
    environment: Type.Optional(Environment),
  },
  { additionalProperties: false },
);

export const RejectBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000, [MULTILINE]: true }) },
  { additionalProperties: false },
);

export const RequestParams = Type.Object({ id: Uuid });

const Figures = {
  count: Type.Integer(),
  medianMs: Type.Union([Type.Integer(), Type.Null()]),
  p90Ms: Type.Union([Type.Integer(), Type.Null()]),
};

export const LeadTimeReport = Type.Object({
  ...Figures,
  months: Type.Array(Type.Object({ month: Type.String({ description: 'YYYY-MM (UTC)' }), ...Figures })),
});
