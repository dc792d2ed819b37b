import { Type } from 'typebox';
import { DepartmentCode, Username } from '../platform/http-schemas.ts';
import { PageQuery } from '../platform/pagination.ts';
import { MULTILINE } from '../platform/validation.ts';
import { EVENT_KINDS, PRIORITIES, TICKET_KINDS, TICKET_STATUSES } from './ticket.tables.ts';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });
export const Status = Type.Enum(TICKET_STATUSES, {
  description: 'new → acknowledged → in-progress → waiting-on-department → resolved → closed',
});
export const Priority = Type.Enum(PRIORITIES, { description: 'P1 (most urgent) to P4' });
const Hours = Type.Enum(['24x7', 'business'] as const);

const Clock = Type.Object({
  targetMinutes: Type.Integer(),
  elapsedMinutes: Type.Integer(),
  dueAt: Nullable(Time),
  state: Type.Enum(['running', 'paused', 'met', 'breached'] as const),
  near: Type.Boolean({ description: 'At or past 80 % of the target' }),
  hours: Hours,
});

export const Ticket = Type.Object({
  id: Type.Integer(),
  department: Type.String(),
  service: Nullable(Type.String({ description: 'DEPT/slug' })),
  kind: Type.Enum(TICKET_KINDS),
  priority: Priority,
  title: Type.String(),
  description: Type.String(),
  status: Status,
  nextStates: Type.Array(Status, { description: 'Where the caller may move it now' }),
  slaTier: Type.String(),
  raisedBy: Type.String(),
  raisedAt: Time,
  watchers: Type.Array(Type.String()),
  assignee: Nullable(Type.String()),
  incidents: Type.Array(Type.Integer()),
  firstResponseAt: Nullable(Time),
  resolvedAt: Nullable(Time),
  closedAt: Nullable(Time),
  sla: Nullable(Type.Object({ response: Clock, resolution: Clock })),
  responseBreachedAt: Nullable(Time),
  resolutionBreachedAt: Nullable(Time),
  updatedAt: Time,
});

export const TicketWithTimeline = Type.Intersect([
  Ticket,
  Type.Object({
    timeline: Type.Array(
      Type.Object({
        kind: Type.Enum(EVENT_KINDS),
        internal: Type.Boolean(),
        by: Type.String(),
        from: Nullable(Status),
        to: Nullable(Status),
        body: Type.String(),
        at: Time,
      }),
    ),
    attachments: Type.Array(
      Type.Object({
        id: Type.String(),
        filename: Type.String(),
        mediaType: Type.String(),
        sizeBytes: Type.Integer(),
        sha256: Type.String(),
        by: Type.String(),
        at: Time,
      }),
    ),
  }),
]);

const Watchers = Type.Array(Username, { maxItems: 20 });
export const NewTicket = Type.Object(
  {
    department: Type.Optional(DepartmentCode),
    service: Type.Optional(Type.String({ maxLength: 60, description: 'slug, or DEPT/slug' })),
    kind: Type.Enum(TICKET_KINDS),
    priority: Priority,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.String({ minLength: 1, maxLength: 20_000, [MULTILINE]: true }),
    watchers: Type.Optional(Watchers),
    raisedAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'The desk only, for a ticket moved from an older desk: when it was first raised there (in the past, at most 366 days ago); its SLA clocks run from then',
      }),
    ),
  },
  { additionalProperties: false },
);
export const TicketParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }) });
export const TicketQuery = Type.Object({
  ...PageQuery,
  department: Type.Optional(DepartmentCode),
  status: Type.Optional(Status),
  priority: Type.Optional(Priority),
  assignee: Type.Optional(Username),
  open: Type.Optional(Type.Boolean({ description: 'Only tickets neither resolved nor closed' })),
});
export const Comment = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 20_000, [MULTILINE]: true }),
    internal: Type.Optional(Type.Boolean({ description: 'The desk only: never shown to the department' })),
  },
  { additionalProperties: false },
);
export const Move = Type.Object(
  { to: Status, note: Type.Optional(Type.String({ maxLength: 2000, [MULTILINE]: true })) },
  { additionalProperties: false },
);
export const Assign = Type.Object({ assignee: Username }, { additionalProperties: false });
export const Link = Type.Object(
  {
    incident: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 })),
    service: Type.Optional(Type.String({ maxLength: 60, description: 'slug, or DEPT/slug' })),
  },
  { additionalProperties: false },
);
export const WatchersBody = Type.Object({ watchers: Watchers }, { additionalProperties: false });
export const Attachment = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^/\\\\]+$' }),
    contentBase64: Type.String({
      minLength: 1,
      maxLength: 760_000,
      description: 'The bytes, base64 (up to 512 KiB)',
    }),
  },
  { additionalProperties: false },
);
export const AttachmentParams = Type.Object({
  id: TicketParams.properties.id,
  attachment: Type.String({ maxLength: 36 }),
});

export const Target = Type.Object({
  priority: Priority,
  tier: Type.String(),
  responseMinutes: Type.Integer(),
  resolutionMinutes: Type.Integer(),
  hours: Hours,
  updatedBy: Type.String(),
  updatedAt: Time,
});
export const TargetParams = Type.Object({
  tier: Type.Enum(['gold', 'silver', 'bronze'] as const),
  priority: Priority,
});
export const TargetInput = Type.Object(
  {
    responseMinutes: Type.Integer({ minimum: 1, maximum: 525_600 }),
    resolutionMinutes: Type.Integer({ minimum: 1, maximum: 525_600 }),
    hours: Hours,
  },
  { additionalProperties: false },
);

export const Report = Type.Object({
  month: Type.String(),
  lines: Type.Array(
    Type.Object({
      department: Type.String(),
      priority: Priority,
      tickets: Type.Integer(),
      responded: Type.Integer(),
      responseMedianMinutes: Nullable(
        Type.Integer({ description: 'On the SLA clock (business or 24x7 minutes)' }),
      ),
      responseBreaches: Type.Integer(),
      resolved: Type.Integer(),
      resolutionMedianMinutes: Nullable(Type.Integer()),
      resolutionBreaches: Type.Integer(),
    }),
  ),
});
