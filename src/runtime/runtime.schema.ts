import { Type } from 'typebox';
import { Timestamp } from '../platform/http-schemas.ts';
import { MULTILINE } from '../platform/validation.ts';

export const Deployment = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'deploy, rollback, env, scale' }),
  state: Type.Enum(['running', 'succeeded', 'failed']),
  message: Type.String(),
  release: Type.Union([Type.Integer(), Type.Null()]),
  createdBy: Type.String(),
  startedAt: Timestamp,
  finishedAt: Type.Union([Timestamp, Type.Null()]),
});

export const Release = Type.Object({
  version: Type.Integer(),
  status: Type.String(),
  kind: Type.Enum(['process', 'static']),
  command: Type.Union([Type.String(), Type.Null()]),
  bundle: Type.String({ description: 'sha256 of the bundle' }),
  droplet: Type.Union([Type.String(), Type.Null()], {
    description: 'sha256 of the droplet it runs (null until staged)',
  }),
  description: Type.String(),
  instances: Type.Integer(),
  memoryMb: Type.Integer(),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.String(),
  createdAt: Timestamp,
});

export const Variable = Type.Object({ key: Type.String(), value: Type.String(), secret: Type.Boolean() });

const EnvKey = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' });

export const EnvChange = Type.Object(
  {
    set: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }),
        Type.String({ maxLength: 32768, [MULTILINE]: true }),
        {
          maxProperties: 200,
        },
      ),
    ),
    secret: Type.Optional(
      Type.Boolean({ description: 'The variables in `set` are secrets: stored encrypted, always masked' }),
    ),
    unset: Type.Optional(Type.Array(EnvKey, { maxItems: 200 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const Scale = Type.Object(
  {
    instances: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    memoryMb: Type.Optional(Type.Integer({ minimum: 16, maximum: 16384 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const Rollback = Type.Object(
  {
    to: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2_147_483_647,
        description: 'Release version; default: the one before',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Instance = Type.Object({
  instanceId: Type.String(),
  state: Type.String(),
  serving: Type.Boolean(),
  pid: Type.Union([Type.Integer(), Type.Null()]),
  port: Type.Integer(),
  restarts: Type.Integer(),
  startedAt: Type.String(),
  healthyAt: Type.Union([Type.String(), Type.Null()]),
  memoryBytes: Type.Union([Type.Number(), Type.Null()]),
  limits: Type.Object({
    memory: Type.Boolean(),
    cpu: Type.Boolean(),
    reason: Type.Union([Type.String(), Type.Null()]),
  }),
  lastExit: Type.Union([
    Type.Object({
      code: Type.Union([Type.Integer(), Type.Null()]),
      signal: Type.Union([Type.String(), Type.Null()]),
      at: Type.String(),
    }),
    Type.Null(),
  ]),
  release: Type.Union([Type.Integer(), Type.Null()]),
});

const Enforcement = Type.Object({
  enforced: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
});

export const Status = Type.Object({
  service: Type.String(),
  hostname: Type.String(),
  url: Type.String({ description: "The service's address through the router" }),
  desired: Type.Object({ instances: Type.Integer(), memoryMb: Type.Integer() }),
  release: Type.Union([Release, Type.Null()]),
  lastDeployment: Type.Union([Deployment, Type.Null()]),
  instances: Type.Array(Instance),
  runAs: Type.Union([Type.Object({ name: Type.String(), uid: Type.Integer() }), Type.Null()], {
    description: "The OS user the service's processes run as; null when the platform is not root",
  }),
  isolation: Type.Object(
    {
      network: Enforcement,
      users: Enforcement,
    },
    { description: 'Whether the host keeps this service apart from the others, and if not, why' },
  ),
});

export const ServiceSummary = Type.Object({
  service: Type.String({ description: 'DEPARTMENT/slug' }),
  lifecycle: Type.String(),
  desiredInstances: Type.Integer(),
  release: Type.Union([Type.Integer(), Type.Null()], { description: 'Version of the serving release' }),
  instances: Type.Integer({ description: 'Instances the runtime has, in any state' }),
  running: Type.Integer({ description: 'Healthy instances the router sends traffic to' }),
});
