import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { Type } from 'typebox';
import { ServiceParams } from '../catalog/catalog.schema.ts';
import { problemResponses, problems, secured, Uuid } from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { loadSecretBox, type SecretBox } from '../platform/secrets.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import * as alerts from './alert.logic.ts';
import * as S from './alerting.schema.ts';
import type { RunningAlerting } from './alerting.start.ts';
import * as incidents from './incident.logic.ts';
import * as notifications from './notification.logic.ts';

/** Alert rules, alerts, incidents, notification channels and console notifications under /api/v1. */
/** Alerting, when this process evaluates rules: told when an override changes. */
export interface AlertingRouteDeps {
  alerting?: Pick<RunningAlerting, 'reloadRules'> | null;
}

export const alertingRoutes: FastifyPluginAsyncTypebox<RouteDeps & AlertingRouteDeps> = async (app, deps) => {
  const { db, config } = deps;
  /**
   * The evaluator in this process (if it runs one) re-reads overrides only every 30 s: tell it at
   * once, so a rule changed here applies from the next snapshot. `deps.alerting` is read per
   * request because alerting starts after the app is built. The change is committed already: a
   * failed re-read is logged and the periodic refresh catches up.
   */
  async function rulesChanged(log: FastifyBaseLogger): Promise<void> {
    try {
      await deps.alerting?.reloadRules();
    } catch (err) {
      log.warn({ err }, 'could not re-read alert rules after a change');
    }
  }
  let box: SecretBox | null = null;
  const notifyDeps = {
    db,
    config,
    // The same key the runtime uses; read on first use so API-only processes need none until then.
    get box() {
      box ??= loadSecretBox(join(config.dataDir, 'secret.key'), config.secretKey ?? undefined);
      return box;
    },
  };
  const rulePath = '/services/:department/:slug/alert-rules';

  app.get(
    rulePath,
    {
      schema: {
        tags: ['alerts'],
        summary: "A service's alert rules: its tier's defaults and its own overrides",
        security: secured,
        params: ServiceParams,
        response: { 200: Type.Object({ items: Type.Array(S.AlertRule) }), ...problemResponses },
      },
    },
    async (req) => ({
      items: await alerts.listRules(db, callerOf(req), req.params.department, req.params.slug),
    }),
  );

  app.get(
    `${rulePath}/:rule`,
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert rule of a service',
        security: secured,
        params: S.ServiceRuleParams,
        response: { 200: S.AlertRule, ...problemResponses },
      },
    },
    (req) => alerts.getRule(db, callerOf(req), req.params.department, req.params.slug, req.params.rule),
  );

  app.put(
    `${rulePath}/:rule`,
    {
      schema: {
        tags: ['alerts'],
        summary: "Override a rule for this service (fields not given keep their value; null: tier's default)",
        security: secured,
        params: S.ServiceRuleParams,
        body: S.AlertRulePatch,
        response: { 200: S.AlertRule, ...problems(422), ...problemResponses },
      },
    },
    async (req) => {
      const { department, slug, rule } = req.params;
      const r = await alerts.putRule(db, callerOf(req), department, slug, rule, req.body);
      await rulesChanged(req.log);
      return r;
    },
  );

  app.delete(
    `${rulePath}/:rule`,
    {
      schema: {
        tags: ['alerts'],
        summary: "Drop this service's override: the rule follows its tier's default again",
        security: secured,
        params: S.ServiceRuleParams,
        response: { 200: S.AlertRule, ...problemResponses },
      },
    },
    async (req) => {
      const { department, slug, rule } = req.params;
      const r = await alerts.resetRule(db, callerOf(req), department, slug, rule);
      await rulesChanged(req.log);
      return r;
    },
  );

  app.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first (firing by default; a department user sees its own)',
        security: secured,
        querystring: Type.Object({
          ...PageQuery,
          state: Type.Enum(['firing', 'resolved', 'all'], { default: 'firing' }),
          service: Type.Optional(S.ServiceRefQuery),
        }),
        response: { 200: PageSchema(S.Alert), ...problemResponses },
      },
    },
    (req) => {
      const { state, service, ...page } = req.query;
      return alerts.listAlerts(db, callerOf(req), { state, ...(service ? { service } : {}) }, page);
    },
  );

  app.get(
    '/incidents',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Incidents, newest first (open by default; a department user sees its own)',
        security: secured,
        querystring: Type.Object({
          ...PageQuery,
          state: Type.Enum(['open', 'resolved', 'all'], { default: 'open' }),
          service: Type.Optional(S.ServiceRefQuery),
        }),
        response: { 200: PageSchema(S.Incident), ...problemResponses },
      },
    },
    (req) => {
      const { state, service, ...page } = req.query;
      return incidents.listIncidents({ db }, callerOf(req), { state, ...(service ? { service } : {}) }, page);
    },
  );

  app.get(
    '/incidents/:id',
    {
      schema: {
        tags: ['incidents'],
        summary: 'An incident with its timeline',
        security: secured,
        params: S.IncidentParams,
        response: { 200: S.IncidentDetail, ...problemResponses },
      },
    },
    (req) => incidents.getIncident({ db }, callerOf(req), req.params.id),
  );

  const action = { tags: ['incidents'], security: secured, params: S.IncidentParams };
  const answer = { 200: S.Incident, ...problemResponses };

  app.post(
    '/incidents/:id/acknowledge',
    {
      schema: {
        ...action,
        summary: 'Acknowledge an open incident (records the time to acknowledge)',
        response: answer,
      },
    },
    (req) => incidents.acknowledge({ db }, callerOf(req), req.params.id),
  );

  app.post(
    '/incidents/:id/assign',
    {
      schema: {
        ...action,
        summary: 'Assign an open incident to a user',
        body: S.AssignBody,
        response: answer,
      },
    },
    (req) => incidents.assign({ db }, callerOf(req), req.params.id, req.body.user),
  );

  app.post(
    '/incidents/:id/notes',
    {
      schema: {
        ...action,
        summary: "Add a note to the incident's timeline",
        body: S.NoteBody,
        response: answer,
      },
    },
    (req) => incidents.addNote({ db }, callerOf(req), req.params.id, req.body.text),
  );

  app.post(
    '/incidents/:id/resolve',
    {
      schema: {
        ...action,
        summary: 'Resolve an open incident by hand',
        body: Type.Optional(S.ResolveBody),
        response: answer,
      },
    },
    (req) => incidents.resolveByHand({ db }, callerOf(req), req.params.id, req.body?.note),
  );

  app.get(
    '/notification-channels',
    {
      schema: {
        tags: ['notifications'],
        summary: "Notification channels (a department user sees its department's)",
        security: secured,
        response: { 200: Type.Object({ items: Type.Array(S.Channel) }), ...problemResponses },
      },
    },
    async (req) => ({ items: await notifications.listChannels(notifyDeps, callerOf(req)) }),
  );

  app.post(
    '/notification-channels',
    {
      schema: {
        tags: ['notifications'],
        summary: "Add a webhook or e-mail channel; a webhook's signing secret is in this answer only",
        security: secured,
        body: S.NewChannel,
        response: {
          201: Type.Object({
            channel: S.Channel,
            secret: Type.Union([Type.String(), Type.Null()], {
              description: 'HMAC-SHA256 key for X-GovHost-Signature; store it now, it is not shown again',
            }),
          }),
          ...problemResponses,
        },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await notifications.createChannel(notifyDeps, callerOf(req), req.body)),
  );

  app.delete(
    '/notification-channels/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Remove a notification channel (its undelivered notifications go with it)',
        security: secured,
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (req, reply) => {
      await notifications.deleteChannel(notifyDeps, callerOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/notification-channels/:id/test',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Send a test notification now; 502 says why it did not arrive',
        security: secured,
        params: Type.Object({ id: Uuid }),
        response: {
          200: Type.Object({ delivered: Type.Boolean(), detail: Type.String() }),
          ...problems(502),
          ...problemResponses,
        },
      },
    },
    (req) => notifications.testChannel(notifyDeps, callerOf(req), req.params.id),
  );

  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: "The console's notifications: every incident event, newest first",
        security: secured,
        querystring: Type.Object(PageQuery),
        response: { 200: PageSchema(S.ConsoleNotification), ...problemResponses },
      },
    },
    (req) => notifications.listConsoleNotifications({ db }, callerOf(req), req.query),
  );
};
