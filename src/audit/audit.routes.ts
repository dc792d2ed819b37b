import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../platform/app-deps.ts';
import { DomainError } from '../platform/errors.ts';
import { DepartmentCode, problemResponses, secured, Timestamp } from '../platform/http-schemas.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { departmentCodes, resolveDepartment } from '../tenancy/department.logic.ts';
import { authorize, departmentScope } from '../tenancy/principal.ts';
import { chainAnchor, formatAnchor, listRecords, parseAnchor, verifyChain } from './audit.logic.ts';

const Record_ = Type.Object({
  seq: Type.Integer(),
  at: Timestamp,
  actor: Type.String(),
  department: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Type.Union([Type.String(), Type.Null()]),
  hash: Type.String(),
});

const Verify = Type.Object({
  ok: Type.Boolean(),
  records: Type.Integer(),
  headHash: Type.Optional(Type.String()),
  headSeq: Type.Optional(Type.Integer()),
  brokenAtSeq: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  reason: Type.Optional(Type.String()),
});

/** The audit trail under /api/v1/audit. */
export const auditRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { db }) => {
  const tags = ['audit'];

  app.get(
    '/audit',
    {
      schema: {
        tags,
        summary: "Audit records, newest first; a department admin sees its department's",
        security: secured,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          before: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 9_007_199_254_740_991,
              description: 'Only records older than this seq',
            }),
          ),
          action: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 100,
              description: 'An exact action (service.scale) or a family ending in a dot (service.)',
            }),
          ),
          actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'User name' })),
          department: Type.Optional(DepartmentCode),
          target: Type.Optional(
            Type.String({ minLength: 1, maxLength: 300, description: 'Target id, e.g. IRD/etax' }),
          ),
          since: Type.Optional(Type.String({ format: 'date-time', description: 'Records at or after' })),
          until: Type.Optional(Type.String({ format: 'date-time', description: 'Records before' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Record_),
            nextBefore: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...problemResponses,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      authorize(caller, 'audit:read');
      const { action, actor, target, since, until } = req.query;
      // A department user naming another department is told it does not exist, as everywhere.
      const departmentId = req.query.department
        ? (await resolveDepartment(db, caller, req.query.department)).id
        : departmentScope(caller);
      const rows = await listRecords(db, {
        afterSeq: req.query.before ?? Number.MAX_SAFE_INTEGER,
        limit: req.query.limit,
        departmentId,
        descending: true,
        filter: {
          action,
          actor,
          targetId: target,
          since: since ? new Date(since) : undefined,
          until: until ? new Date(until) : undefined,
        },
      });
      const codes = await departmentCodes(
        db,
        rows.map((r) => r.department_id),
      );
      const items = rows.map((r) => ({
        seq: r.seq,
        at: r.at.toISOString(),
        actor: r.actor_name,
        department: r.department_id ? (codes.get(r.department_id) ?? null) : null,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        before: r.before,
        after: r.after,
        requestId: r.request_id,
        hash: r.hash,
      }));
      const last = rows.at(-1);
      return { items, nextBefore: rows.length === req.query.limit && last ? last.seq : null };
    },
  );

  app.get(
    '/audit/anchor',
    {
      schema: {
        tags,
        summary: "The chain's current head (seq and MAC), to keep outside the database",
        security: secured,
        response: {
          200: Type.Object({
            seq: Type.Integer(),
            mac: Type.String(),
            anchor: Type.String({ description: 'seq:mac, as `govhost audit verify --anchor` takes it' }),
          }),
          ...problemResponses,
        },
      },
    },
    async (req) => {
      authorize(callerOf(req), 'audit:verify');
      const head = await chainAnchor(db);
      return { ...head, anchor: formatAnchor(head) };
    },
  );

  app.post(
    '/audit/verify',
    {
      schema: {
        tags,
        summary: 'Re-compute the keyed chain and report the first record that does not match',
        security: secured,
        querystring: Type.Object({
          anchor: Type.Optional(
            Type.String({
              maxLength: 100,
              description: 'A head kept earlier (seq:mac): the chain must still hold it unchanged',
            }),
          ),
        }),
        response: { 200: Verify, ...problemResponses },
      },
    },
    async (req) => {
      authorize(callerOf(req), 'audit:verify');
      const raw = req.query.anchor;
      const anchor = raw === undefined ? undefined : parseAnchor(raw);
      if (anchor === null) {
        throw new DomainError(
          'GOVHOST_VALIDATION',
          'anchor must be seq:mac, as govhost audit anchor prints it',
        );
      }
      return verifyChain(db, { anchor });
    },
  );
};
