import { Type } from 'typebox';
import { Timestamp } from '../platform/http-schemas.ts';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const MetricsQuery = Type.Object({
  from: Type.Optional(
    Type.String({ format: 'date-time', description: 'Start (ISO 8601); default: an hour before `to`' }),
  ),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'End (ISO 8601); default: now' })),
  step: Type.Integer({
    minimum: 60,
    maximum: 31_536_000,
    multipleOf: 60,
    default: 60,
    description: 'Seconds per point, a multiple of 60; at most 1500 points per range',
  }),
});

const Requests = Type.Object({
  total: Type.Number(),
  '1xx': Type.Number(),
  '2xx': Type.Number(),
  '3xx': Type.Number(),
  '4xx': Type.Number(),
  '5xx': Type.Number(),
});

export const MetricsPoint = Type.Object({
  t: Timestamp,
  requests: Requests,
  errorRate: Type.Union([Type.Number(), Type.Null()], {
    description: '5xx share of requests; null with none',
  }),
  latencyMs: Type.Object({
    p50: NullableNumber,
    p95: NullableNumber,
    p99: NullableNumber,
    mean: NullableNumber,
  }),
  probes: Type.Object({
    total: Type.Number(),
    failed: Type.Number(),
    successRatio: NullableNumber,
    meanMs: NullableNumber,
  }),
});

export const InstancePoint = Type.Object({
  t: Timestamp,
  cpu: Type.Number({ description: 'Average share of one CPU over the minutes sampled' }),
  cpuSeconds: Type.Number(),
  memoryMaxBytes: NullableNumber,
  memoryLimitBytes: Type.Number(),
  restarts: Type.Number({ description: 'Restarts within the step' }),
  state: Type.String(),
});

const InstanceSample = Type.Object({
  instanceId: Type.String(),
  state: Type.String(),
  restarts: Type.Number(),
  memoryBytes: NullableNumber,
  memoryLimitBytes: Type.Number(),
  cpu: NullableNumber,
});

export const Snapshot = Type.Object(
  {
    serviceId: Type.String(),
    departmentId: Type.String(),
    key: Type.String(),
    tier: Type.String(),
    state: Type.Enum(['up', 'down', 'unknown']),
    downSince: NullableNumber,
    lastProbe: Type.Union([
      Type.Object({
        at: Type.Number(),
        ok: Type.Boolean(),
        status: NullableNumber,
        ms: Type.Number(),
        error: NullableString,
      }),
      Type.Null(),
    ]),
    consecutiveFailures: Type.Number(),
    traffic: Type.Object({
      windowSec: Type.Number(),
      requests: Type.Number(),
      errors5xx: Type.Number(),
      p50Ms: NullableNumber,
      p95Ms: NullableNumber,
      p99Ms: NullableNumber,
    }),
    instances: Type.Array(InstanceSample),
    at: Type.Number({ description: 'Epoch milliseconds' }),
  },
  { description: 'Live state from the monitoring engine; times in epoch milliseconds' },
);

export const ServiceMetrics = Type.Object({
  service: Type.String(),
  from: Timestamp,
  to: Timestamp,
  step: Type.Integer(),
  points: Type.Array(MetricsPoint),
  instances: Type.Array(Type.Object({ instanceId: Type.String(), points: Type.Array(InstancePoint) })),
  current: Type.Union([Snapshot, Type.Null()]),
});
