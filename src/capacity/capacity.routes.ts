import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  DepartmentCode,
  Name,
  problemResponses,
  secured,
  Timestamp,
  Uuid,
} from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { FARM_STATES } from './capacity.tables.ts';
import * as farms from './farm.logic.ts';
import * as quotas from './quota.logic.ts';

const FarmCode = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$', description: 'e.g. FARM-01' });
const FarmState = Type.Enum(FARM_STATES, { description: 'planned → ordered → active → retired' });
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
const Overcommit = Type.Number({
  minimum: 0.1,
  maximum: 10,
  description: 'Reservations may reach capacity times this (1: none)',
});
const Resources = Type.Object({ cpu: Type.Number(), memoryMb: Type.Number() });

const Farm = Type.Object({
  code: Type.String(),
  name: Type.String(),
  state: FarmState,
  phase: Type.Integer(),
  isLocal: Type.Boolean({ description: 'The host this platform runs on, registered at start' }),
  capacity: Type.Object({ vcpu: Type.Number(), memoryMb: Type.Integer(), storageGb: Type.Integer() }),
  overcommit: Type.Object({ cpu: Type.Number(), memory: Type.Number() }),
  reservable: Resources,
  reserved: Type.Object({
    instances: Type.Integer(),
    services: Type.Integer(),
    cpu: Type.Number(),
    memoryMb: Type.Number(),
    storageMb: Type.Number({ description: "Disk of the instances' slots, MiB" }),
  }),
  used: Type.Union([
    Type.Object({ cpu: Type.Number(), memoryMb: Type.Number(), measuredServices: Type.Integer() }),
    Type.Null(),
  ]),
  suggestedOvercommit: Type.Union([
    Type.Object({ cpu: Type.Number(), memory: Type.Number(), basis: Type.String() }),
    Type.Null(),
  ]),
  idleWatts: Type.Number(),
  maxWatts: Type.Number(),
  costHkd: Type.Number(),
  orderedOn: Type.Union([Type.String(), Type.Null()]),
  activeFrom: Type.Union([Type.String(), Type.Null()]),
  retiredOn: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const FarmFields = {
  name: Type.Optional(Name),
  vcpu: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  memoryMb: Type.Integer({ minimum: 1, maximum: 2_000_000_000 }),
  storageGb: Type.Integer({ minimum: 0, maximum: 2_000_000_000 }),
  idleWatts: Type.Number({ minimum: 0, maximum: 10_000_000 }),
  maxWatts: Type.Number({ minimum: 0, maximum: 10_000_000 }),
  costHkd: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e15 })),
  phase: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  state: Type.Optional(FarmState),
  orderedOn: Type.Optional(Type.Union([Day, Type.Null()])),
  activeFrom: Type.Optional(Type.Union([Day, Type.Null()])),
  retiredOn: Type.Optional(Type.Union([Day, Type.Null()])),
  cpuOvercommit: Type.Optional(Overcommit),
  memoryOvercommit: Type.Optional(Overcommit),
};

const NewFarm = Type.Object({ code: FarmCode, ...FarmFields }, { additionalProperties: false });
const FarmPatch = Type.Partial(Type.Object(FarmFields), { additionalProperties: false, minProperties: 1 });

const Quota = Type.Object({
  department: Type.String(),
  limits: Type.Object({ memoryMb: Type.Integer(), instances: Type.Integer(), services: Type.Integer() }),
  isDefault: Type.Boolean(),
  usage: Type.Object({ services: Type.Integer(), instances: Type.Integer(), memoryMb: Type.Integer() }),
});
const QuotaSet = Type.Object(
  {
    memoryMb: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_000_000_000 })),
    instances: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    services: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

const UnmetDemand = Type.Object({
  id: Uuid,
  department: Type.Union([Type.String(), Type.Null()]),
  service: Type.String({ description: 'DEPT/slug' }),
  services: Type.Integer({ description: 'New services asked for: 1 for a refused service creation' }),
  instances: Type.Integer(),
  memoryMb: Type.Integer({ description: 'Memory per instance, MiB' }),
  cpu: Type.Number({ description: 'Share of one CPU per instance' }),
  storageMb: Type.Integer({ description: 'Disk per instance, MiB' }),
  reason: Type.String(),
  at: Timestamp,
});

/** Farms, department quotas and refused demand: the central team's capacity desk. */
export const capacityRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db }) => {
  const tags = ['capacity'];

  app.get(
    '/farms',
    {
      schema: {
        tags,
        summary: 'Server farms with capacity, reservations, measured use and suggested overcommit',
        security: secured,
        querystring: Type.Object({ state: Type.Optional(FarmState) }),
        response: { 200: Type.Object({ items: Type.Array(Farm) }), ...problemResponses },
      },
    },
    async (req) => ({ items: await farms.listFarms(db, callerOf(req), req.query.state) }),
  );

  app.post(
    '/farms',
    {
      schema: {
        tags,
        summary: 'Add a farm (planned, ordered or active)',
        security: secured,
        body: NewFarm,
        response: { 201: Farm, ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await farms.createFarm(db, callerOf(req), req.body)),
  );

  app.get(
    '/farms/:code',
    {
      schema: {
        tags,
        summary: 'Show a farm',
        security: secured,
        params: Type.Object({ code: FarmCode }),
        response: { 200: Farm, ...problemResponses },
      },
    },
    (req) => farms.getFarm(db, callerOf(req), req.params.code),
  );

  app.patch(
    '/farms/:code',
    {
      schema: {
        tags,
        summary: 'Change a farm: its state (with its date), figures or overcommit',
        description: 'A farm holding reservations cannot be retired (409 GOVHOST_FARM_IN_USE).',
        security: secured,
        params: Type.Object({ code: FarmCode }),
        body: FarmPatch,
        response: { 200: Farm, ...problemResponses },
      },
    },
    (req) => farms.updateFarm(db, callerOf(req), req.params.code, req.body),
  );

  app.get(
    '/departments/:code/quota',
    {
      schema: {
        tags,
        summary: "A department's quota and what it uses (its own people, or platform roles)",
        security: secured,
        params: Type.Object({ code: DepartmentCode }),
        response: { 200: Quota, ...problemResponses },
      },
    },
    (req) => quotas.getQuota(db, callerOf(req), req.params.code),
  );

  app.put(
    '/departments/:code/quota',
    {
      schema: {
        tags,
        summary: "Set a department's quota; limits not given keep their value",
        security: secured,
        params: Type.Object({ code: DepartmentCode }),
        body: QuotaSet,
        response: { 200: Quota, ...problemResponses },
      },
    },
    (req) => quotas.setQuota(db, callerOf(req), req.params.code, req.body),
  );

  app.get(
    '/capacity/unmet-demand',
    {
      schema: {
        tags,
        summary:
          'Service creations, deploys, scales, tier changes and activations refused for quota or capacity, newest first',
        security: secured,
        querystring: Type.Object({
          ...PageQuery,
          department: Type.Optional(DepartmentCode),
          since: Type.Optional(Timestamp),
        }),
        response: { 200: PageSchema(UnmetDemand), ...problemResponses },
      },
    },
    (req) => {
      const { department, since, ...page } = req.query;
      return quotas.listUnmetDemand(db, callerOf(req), page, { department, since });
    },
  );
};
