import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DepartmentCode, problemResponses, problems, secured } from '../platform/http-schemas.ts';
import { PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { programmeBurndown } from './burndown.ts';
import * as logic from './migration.logic.ts';
import * as S from './migration.schema.ts';
import { importCsv } from './migration-import.ts';
import * as waves from './waves.logic.ts';

/**
 * The migration programme: the legacy inventory, waves, item states and the burndown. A
 * department sees and moves its own items; operators see and move all, and plan the waves.
 * (The router cut-over, `…/shift` and `…/back`, is the cutover part's.)
 */
export const migrationRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db }) => {
  const tags = ['migration'];
  const item = '/migration/items/:department/:ref';

  app.get(
    '/migration/items',
    {
      schema: {
        tags,
        summary: 'Migration items the caller may see, by department and reference',
        security: secured,
        querystring: S.ItemQuery,
        response: { 200: PageSchema(S.Item), ...problemResponses },
      },
    },
    (req) => {
      const { department, wave, state, ...page } = req.query;
      return logic.listItems(db, callerOf(req), page, { department, wave, state });
    },
  );

  app.post(
    '/migration/items',
    {
      schema: {
        tags,
        summary: 'Add a legacy service to the inventory (inventoried)',
        security: secured,
        body: S.NewItem,
        response: { 201: S.Item, ...problems(409, 422), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await logic.createItem(db, callerOf(req), req.body)),
  );

  app.post(
    '/migration/items/import',
    {
      schema: {
        tags,
        summary:
          'Import an inventory from CSV, all or nothing; 422 lists every error by line and column (rowErrors)',
        security: secured,
        body: S.ImportCsv,
        response: {
          201: Type.Object({ imported: Type.Integer(), items: Type.Array(Type.String()) }),
          ...problems(422),
          ...problemResponses,
        },
      },
    },
    async (req, reply) => reply.status(201).send(await importCsv(db, callerOf(req), req.body.csv)),
  );

  app.get(
    item,
    {
      schema: {
        tags,
        summary: 'One migration item, with its dependencies and every step it took',
        security: secured,
        params: S.ItemParams,
        response: { 200: S.ItemWithSteps, ...problemResponses },
      },
    },
    (req) => logic.getItem(db, callerOf(req), req.params.department, req.params.ref),
  );

  app.patch(
    item,
    {
      schema: {
        tags,
        summary: "Change an item's details, wave or planned day (its state moves through …/move)",
        security: secured,
        params: S.ItemParams,
        body: S.ItemPatch,
        response: { 200: S.Item, ...problems(422), ...problemResponses },
      },
    },
    (req) => logic.updateItem(db, callerOf(req), req.params.department, req.params.ref, req.body),
  );

  app.post(
    `${item}/move`,
    {
      schema: {
        tags,
        summary: 'Move an item to its next state; 409 names the states allowed from where it stands',
        security: secured,
        params: S.ItemParams,
        body: S.Move,
        response: { 200: S.Item, ...problems(409, 422), ...problemResponses },
      },
    },
    (req) =>
      logic.moveItem(db, callerOf(req), req.params.department, req.params.ref, req.body.to, req.body.reason),
  );

  app.get(
    '/migration/waves',
    {
      schema: {
        tags,
        summary: "The programme's waves, with the caller's items in each by state",
        security: secured,
        response: { 200: Type.Array(S.Wave), ...problemResponses },
      },
    },
    (req) => waves.listWaves(db, callerOf(req)),
  );

  app.put(
    '/migration/waves/:number',
    {
      schema: {
        tags,
        summary: 'Create a wave, or change its name and planned dates (operators)',
        security: secured,
        params: S.WaveParams,
        body: S.WaveInput,
        response: { 200: S.Wave, 201: S.Wave, ...problems(409, 422), ...problemResponses },
      },
    },
    async (req, reply) => {
      const { wave, created } = await waves.setWave(db, callerOf(req), req.params.number, req.body);
      return reply.status(created ? 201 : 200).send(wave);
    },
  );

  app.get(
    '/migration/burndown',
    {
      schema: {
        tags,
        summary:
          'Items left on the legacy platform by month, planned against actual, overall and per wave; when each department leaves',
        security: secured,
        querystring: Type.Object({ department: Type.Optional(DepartmentCode) }),
        response: { 200: S.Burndown, ...problemResponses },
      },
    },
    (req) => programmeBurndown(db, callerOf(req), { department: req.query.department }),
  );
};
