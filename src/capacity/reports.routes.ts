import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses, secured, Uuid } from '../platform/http-schemas.ts';
import { PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { createDemand, deleteDemand, listDemand } from './demand.logic.ts';
import { energyReport } from './energy.logic.ts';
import { capacityForecast } from './forecast.logic.ts';
import * as S from './reports.schema.ts';
import { sharingReport } from './sharing.logic.ts';

/** Operators' capacity reports and the demand pipeline, under /api/v1/capacity. */
export const capacityReportRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db }) => {
  const tags = ['capacity'];

  app.get(
    '/capacity/sharing',
    {
      schema: {
        tags,
        summary: 'Sharing report: services per farm, reserved against used, farms avoided by sharing',
        description:
          'Farms a department would need alone are ⌈its reservations / the median active farm⌉ (memory or CPU, whichever needs more); farms avoided = their sum − active farms, at the reference farm’s cost (or HK$3.3M a farm, the paper’s figure, when it has none).',
        security: secured,
        querystring: S.SharingQuery,
        response: { 200: S.Sharing, ...problemResponses },
      },
    },
    (req) => sharingReport(db, callerOf(req), req.query),
  );

  app.get(
    '/capacity/forecast',
    {
      schema: {
        tags,
        summary: 'Expansion forecast: demand against capacity month by month, and when to buy the next farms',
        description:
          'Demand = reservations now (grown by growth lines) + pipeline lines live by the month (+ the scenario’s lines when named). Capacity = farms in service that month (active, or planned/ordered with a date), × overcommit. A recommended farm is the median active farm, in service the month before demand would pass the target, ordered `leadMonths` earlier.',
        security: secured,
        querystring: S.ForecastQuery,
        response: { 200: S.Forecast, ...problemResponses },
      },
    },
    (req) => capacityForecast(db, callerOf(req), req.query),
  );

  app.get(
    '/capacity/energy',
    {
      schema: {
        tags,
        summary: "Estimated energy of each farm in a month, and each service's share",
        description:
          'Power = idle + (max − idle) × utilisation; utilisation is measured CPU over vCPU when every service on the farm has measurements in the month (basis `measured`), otherwise reserved CPU (basis `reserved`). kWh = power × hours in service in the month (up to now).',
        security: secured,
        querystring: S.EnergyQuery,
        response: { 200: S.Energy, ...problemResponses },
      },
    },
    (req) => energyReport(db, callerOf(req), req.query.month),
  );

  app.get(
    '/capacity/demand',
    {
      schema: {
        tags,
        summary: 'The demand pipeline: hosting requests, migration waves and growth lines',
        security: secured,
        querystring: S.DemandQuery,
        response: { 200: PageSchema(S.PlannedDemand), ...problemResponses },
      },
    },
    (req) => {
      const { scenario, kind, department, ...page } = req.query;
      return listDemand(db, callerOf(req), page, { scenario, kind, department });
    },
  );

  app.post(
    '/capacity/demand',
    {
      schema: {
        tags,
        summary: 'Add a line to the demand pipeline (a scenario name makes it a what-if)',
        security: secured,
        body: S.NewDemand,
        response: { 201: S.PlannedDemand, ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createDemand(db, callerOf(req), req.body)),
  );

  app.delete(
    '/capacity/demand/:id',
    {
      schema: {
        tags,
        summary: 'Remove a line from the demand pipeline',
        security: secured,
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (req, reply) => {
      await deleteDemand(db, callerOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
};
