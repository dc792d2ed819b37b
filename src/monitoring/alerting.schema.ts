import { Type } from 'typebox';
import { DepartmentCode, Timestamp, Uuid } from '../platform/http-schemas.ts';
import { MULTILINE } from '../platform/validation.ts';
import { RULE_NAMES, SEVERITIES } from './alert-rules.ts';

export const RuleNameSchema = Type.Enum(RULE_NAMES, {
  description: 'service-down, error-rate (5xx %), latency (p95 ms), crash-loop, memory (% of limit)',
});
export const SeveritySchema = Type.Enum(SEVERITIES, { description: 'P1 is the most urgent' });
const Nullable = <T extends Type.TSchema>(t: T, opts: Type.TSchemaOptions = {}) =>
  Type.Union([t, Type.Null()], opts);

export const AlertRule = Type.Object({
  rule: RuleNameSchema,
  enabled: Type.Boolean(),
  threshold: Nullable(Type.Number()),
  unit: Nullable(Type.String()),
  forSeconds: Type.Integer({ description: 'How long the symptom must last before the alert fires' }),
  clearSeconds: Type.Integer({
    description: 'How long the symptom must have been gone before a firing alert clears',
  }),
  source: Type.Enum(['default', 'override']),
  severity: SeveritySchema,
  defaults: Type.Object({
    threshold: Nullable(Type.Number()),
    forSeconds: Type.Integer(),
    clearSeconds: Type.Integer(),
  }),
});

export const AlertRulePatch = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    threshold: Type.Optional(
      Nullable(Type.Number({ minimum: 0, maximum: 3_600_000, description: "null: the tier's default" })),
    ),
    forSeconds: Type.Optional(
      Nullable(Type.Integer({ minimum: 0, maximum: 86_400, description: "null: the tier's default" })),
    ),
    clearSeconds: Type.Optional(
      Nullable(Type.Integer({ minimum: 0, maximum: 86_400, description: "null: the tier's default" })),
    ),
  },
  { additionalProperties: false },
);

export const ServiceRuleParams = Type.Object({
  department: DepartmentCode,
  slug: Type.String({ pattern: '^[a-z][a-z0-9-]{0,38}[a-z0-9]$' }),
  rule: RuleNameSchema,
});

export const ServiceRefQuery = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9]{1,9}/[a-z][a-z0-9-]{0,38}[a-z0-9]$',
  description: 'DEPT/slug',
});

export const Alert = Type.Object({
  id: Uuid,
  service: Type.String(),
  rule: RuleNameSchema,
  state: Type.Enum(['firing', 'resolved']),
  value: Nullable(Type.Number()),
  threshold: Nullable(Type.Number()),
  message: Type.String(),
  startedAt: Timestamp,
  resolvedAt: Nullable(Timestamp),
});

export const Incident = Type.Object({
  id: Type.Integer(),
  service: Type.String(),
  rule: RuleNameSchema,
  severity: SeveritySchema,
  state: Type.Enum(['open', 'resolved']),
  title: Type.String(),
  alertId: Nullable(Uuid),
  openedAt: Timestamp,
  acknowledgedAt: Nullable(Timestamp),
  acknowledgedBy: Nullable(Type.String()),
  assignee: Nullable(Type.String()),
  resolvedAt: Nullable(Timestamp),
  resolvedBy: Nullable(Type.String()),
  timeToAcknowledgeSec: Nullable(Type.Integer()),
  timeToResolveSec: Nullable(Type.Integer()),
});

export const IncidentEvent = Type.Object({
  id: Type.Integer(),
  kind: Type.Enum(['opened', 'acknowledged', 'assigned', 'note', 'notified', 'resolved', 'reopened']),
  actor: Type.String(),
  detail: Type.String(),
  at: Timestamp,
});

export const IncidentDetail = Type.Object({
  ...Incident.properties,
  timeline: Type.Array(IncidentEvent),
});

export const IncidentParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }),
});

const Note = Type.String({ minLength: 1, maxLength: 4000, [MULTILINE]: true });

export const AssignBody = Type.Object(
  { user: Type.String({ pattern: '^[a-z][a-z0-9._-]{1,63}$', description: 'Username' }) },
  { additionalProperties: false },
);
export const NoteBody = Type.Object({ text: Note }, { additionalProperties: false });
export const ResolveBody = Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false });

export const Channel = Type.Object({
  id: Uuid,
  department: Nullable(Type.String({ description: 'null: platform-wide, told of every department' })),
  kind: Type.Enum(['webhook', 'email']),
  url: Nullable(Type.String()),
  addresses: Nullable(Type.Array(Type.String())),
  minSeverity: Nullable(SeveritySchema),
  createdBy: Type.String(),
  createdAt: Timestamp,
});

export const NewChannel = Type.Object(
  {
    kind: Type.Enum(['webhook', 'email']),
    url: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 2000,
        description: 'webhook: the https:// (or http://) URL to POST to',
      }),
    ),
    addresses: Type.Optional(
      Type.Array(Type.String({ format: 'email', maxLength: 254 }), {
        minItems: 1,
        maxItems: 20,
        description: 'email: who receives it',
      }),
    ),
    minSeverity: Type.Optional(SeveritySchema),
    department: Type.Optional(
      Nullable(DepartmentCode, {
        description: "Default: your department; the central team's default is platform-wide (null)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ConsoleNotification = Type.Object({
  id: Type.Integer(),
  incidentId: Type.Integer(),
  event: Type.String(),
  severity: Type.String(),
  service: Type.String(),
  message: Type.String(),
  at: Timestamp,
});
