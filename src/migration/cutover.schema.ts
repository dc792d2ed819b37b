import { Type } from 'typebox';
import { Timestamp } from '../platform/http-schemas.ts';

export const Cutover = Type.Object({
  service: Type.String({ description: 'DEPT/slug' }),
  legacyUrl: Type.String({ description: 'The legacy service, http(s)://host[:port]' }),
  legacyHost: Type.Union([Type.String(), Type.Null()], {
    description: 'Host header sent to the legacy service; null: the citizen’s',
  }),
  legacyCa: Type.Boolean({ description: 'A CA of its own is trusted for the legacy service’s HTTPS' }),
  percent: Type.Integer({ minimum: 0, maximum: 100, description: 'Share of requests for the new release' }),
  newPaths: Type.Array(Type.String(), { description: 'Path prefixes the new release serves whole' }),
  sticky: Type.Boolean({ description: 'Each client stays on one side (hash of its address)' }),
  fallbackErrorRate: Type.Union([Type.Number(), Type.Null()], {
    description: 'Percent of 5xx from the new release that sends all traffic back to legacy; null: off',
  }),
  updatedBy: Type.String(),
  updatedAt: Timestamp,
});

export const CutoverInput = Type.Object(
  {
    legacyUrl: Type.String({ maxLength: 300, description: 'http(s)://host[:port], on GOVHOST_LEGACY_ALLOW' }),
    legacyHost: Type.Optional(Type.String({ maxLength: 260 })),
    legacyCa: Type.Optional(Type.String({ maxLength: 65536, description: 'PEM CA certificates' })),
    percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 0 })),
    newPaths: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
    sticky: Type.Optional(Type.Boolean()),
    fallbackErrorRate: Type.Optional(
      Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 100 }), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);

export const Shift = Type.Object(
  { percent: Type.Integer({ minimum: 0, maximum: 100, description: 'New share of the new release' }) },
  { additionalProperties: false },
);

const Side = Type.Object({
  requests: Type.Integer(),
  errors5xx: Type.Integer(),
  errorRate: Type.Union([Type.Number(), Type.Null()], { description: 'percent; null without requests' }),
  latencyMs: Type.Object({ p50: Type.Number(), p95: Type.Number(), mean: Type.Number() }),
});

export const Comparison = Type.Object({
  service: Type.String(),
  percent: Type.Integer(),
  windowSec: Type.Integer({ description: 'Seconds covered: since the last change, at most 5 minutes' }),
  new: Side,
  legacy: Side,
});
