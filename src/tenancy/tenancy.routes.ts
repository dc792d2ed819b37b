import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DepartmentCode, problemResponses, problems, secured, Uuid } from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from './auth.hook.ts';
import * as departments from './department.logic.ts';
import { createRouterToken } from './router-token.logic.ts';
import * as S from './tenancy.schema.ts';
import * as tokens from './token.logic.ts';
import * as users from './user.logic.ts';

/** Departments, users, tokens and login under /api/v1. */
export const tenancyRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db }) => {
  const tags = ['tenancy'];

  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Exchange a user name and password for a session token',
        body: S.Login,
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: Type.String() }),
          ...problems(401, 423, 429),
          ...problemResponses,
        },
      },
    },
    (req) => tokens.login(db, req.body, { requestId: req.id, address: req.ip }),
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags,
        summary: 'End the calling session: a session token is revoked, an API token is left valid',
        security: secured,
        response: {
          200: Type.Object({ revoked: Type.Boolean(), kind: Type.Enum(['api', 'session']) }),
          ...problemResponses,
        },
      },
    },
    (req) => tokens.logout(db, callerOf(req)),
  );

  app.get(
    '/me',
    {
      schema: {
        tags,
        summary: 'Who the token belongs to',
        security: secured,
        response: { 200: S.Me, ...problemResponses },
      },
    },
    async (req) => {
      const c = callerOf(req);
      return {
        username: c.username,
        role: c.role,
        department: c.departmentCode,
        tokenScope: c.tokenScope,
        locale: await users.myLocale(db, c),
      };
    },
  );

  app.patch(
    '/me',
    {
      schema: {
        tags,
        summary: "Change the caller's own preferences (the console's language)",
        security: secured,
        body: S.MePatch,
        response: { 200: S.Me, ...problemResponses },
      },
    },
    async (req) => {
      const c = callerOf(req);
      return {
        username: c.username,
        role: c.role,
        department: c.departmentCode,
        tokenScope: c.tokenScope,
        locale: await users.setMyLocale(db, c, req.body.locale),
      };
    },
  );

  app.get(
    '/departments',
    {
      schema: {
        tags,
        summary: 'List departments (a department user sees its own)',
        security: secured,
        querystring: Type.Object(PageQuery),
        response: { 200: PageSchema(S.Department), ...problemResponses },
      },
    },
    (req) => departments.listDepartments(db, callerOf(req), req.query),
  );

  app.post(
    '/departments',
    {
      schema: {
        tags,
        summary: 'Create a department',
        security: secured,
        body: S.NewDepartment,
        response: { 201: S.Department, ...problemResponses },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await departments.createDepartment(db, callerOf(req), req.body)),
  );

  app.get(
    '/departments/:code',
    {
      schema: {
        tags,
        summary: 'Show a department',
        security: secured,
        params: S.DepartmentParams,
        response: { 200: S.Department, ...problemResponses },
      },
    },
    (req) => departments.getDepartment(db, callerOf(req), req.params.code),
  );

  app.patch(
    '/departments/:code',
    {
      schema: {
        tags,
        summary: 'Rename a department',
        security: secured,
        params: S.DepartmentParams,
        body: S.DepartmentPatch,
        response: { 200: S.Department, ...problemResponses },
      },
    },
    (req) => departments.updateDepartment(db, callerOf(req), req.params.code, req.body),
  );

  app.delete(
    '/departments/:code',
    {
      schema: {
        tags,
        summary: 'Delete a department with no users or services',
        security: secured,
        params: S.DepartmentParams,
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (req, reply) => {
      await departments.deleteDepartment(db, callerOf(req), req.params.code);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'List users (a department user sees its department)',
        security: secured,
        querystring: Type.Object({ ...PageQuery, department: Type.Optional(DepartmentCode) }),
        response: { 200: PageSchema(S.User), ...problemResponses },
      },
    },
    (req) => {
      const { department, ...page } = req.query;
      return users.listUsers(db, callerOf(req), page, { department });
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a user',
        security: secured,
        body: S.NewUser,
        response: { 201: S.User, ...problems(422), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await users.createUser(db, callerOf(req), req.body)),
  );

  app.get(
    '/users/:username',
    {
      schema: {
        tags,
        summary: 'Show a user',
        security: secured,
        params: S.UserParams,
        response: { 200: S.User, ...problemResponses },
      },
    },
    (req) => users.getUser(db, callerOf(req), req.params.username),
  );

  app.patch(
    '/users/:username',
    {
      schema: {
        tags,
        summary: 'Change a user (role, disabled, name, e-mail, password)',
        security: secured,
        params: S.UserParams,
        body: S.UserPatch,
        response: { 200: S.User, ...problems(422), ...problemResponses },
      },
    },
    (req) => users.updateUser(db, callerOf(req), req.params.username, req.body),
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags,
        summary: "List your tokens, or (admins) another user's",
        security: secured,
        querystring: Type.Object({ user: Type.Optional(S.UserParams.properties.username) }),
        response: { 200: Type.Object({ items: Type.Array(S.Token) }), ...problemResponses },
      },
    },
    async (req) => ({ items: await tokens.listTokens(db, callerOf(req), req.query.user) }),
  );

  app.post(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'Create an API token; its secret is shown in this response only',
        security: secured,
        body: S.NewToken,
        response: { 201: Type.Object({ token: S.Token, secret: Type.String() }), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await tokens.createToken(db, callerOf(req), req.body)),
  );

  app.post(
    '/tokens/router',
    {
      schema: {
        tags,
        summary:
          'Create a router token (reads the route table, nothing else); its secret is shown in this response only',
        description:
          'For a router that follows the control plane (GOVHOST_ROUTER_CONTROL_PLANE_TOKEN). Makes the user `router-<name>` with the role `router` on first use, then a read-only API token for it. Platform admins only.',
        security: secured,
        body: S.NewRouterToken,
        response: {
          201: Type.Object({ token: S.Token, secret: Type.String() }),
          ...problems(409),
          ...problemResponses,
        },
      },
    },
    async (req, reply) => reply.status(201).send(await createRouterToken(db, callerOf(req), req.body)),
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags,
        summary: 'Revoke a token',
        security: secured,
        params: Type.Object({ id: Uuid }),
        response: { 200: S.Token, ...problemResponses },
      },
    },
    (req) => tokens.revokeToken(db, callerOf(req), req.params.id),
  );
};
