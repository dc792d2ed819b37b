import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import * as budgets from './budget.logic.ts';
import * as chargeback from './chargeback.logic.ts';
import { expectedCharge } from './expected.logic.ts';
import * as S from './finance.schema.ts';
import { adoptRateProposal, rateProposal } from './rate-proposal.logic.ts';
import * as scenarios from './scenario.logic.ts';
import { sharingBusinessCase } from './sharing.logic.ts';
import { statementCsv, statementCsvFilename } from './statement.ts';

/** Finance: the business case and its scenarios (the central team's). */
export const financeRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db }) => {
  const tags = ['finance'];

  app.get(
    '/finance/business-case',
    {
      schema: {
        tags,
        summary: "A scenario's annex: costs, savings, net and cumulative net savings by financial year",
        security: secured,
        querystring: S.BusinessCaseQuery,
        response: { 200: S.BusinessCase, ...problems(404), ...problemResponses },
      },
    },
    (req) =>
      scenarios.scenarioBusinessCase(db, callerOf(req), req.query.scenario ?? scenarios.PAPER_SCENARIO),
  );

  app.get(
    '/finance/sharing',
    {
      schema: {
        tags,
        summary:
          "The savings of sharing: farms each department would need alone against farms the shared platform needs (peak demand, planned services included), beside the paper's 78 farms / HK$260M",
        security: secured,
        response: { 200: S.Sharing, ...problemResponses },
      },
    },
    (req) => sharingBusinessCase(db, callerOf(req)),
  );

  app.get(
    '/finance/rates',
    {
      schema: {
        tags,
        summary:
          'The rate card: HK cents per GB-hour of memory and storage, per CPU-hour and per thousand requests, each from a day on',
        security: secured,
        response: { 200: Type.Array(S.Rate), ...problemResponses },
      },
    },
    (req) => chargeback.rateCard(db, callerOf(req)),
  );

  app.get(
    '/finance/rates/proposal',
    {
      schema: {
        tags,
        summary:
          "Rates derived from a scenario: a year's recurring cost recovered from the active farms' memory and CPU at a target utilisation (adopt them with POST /finance/rates)",
        security: secured,
        querystring: S.RateProposalQuery,
        response: { 200: S.RateProposal, ...problems(404, 422), ...problemResponses },
      },
    },
    (req) => rateProposal(db, callerOf(req), req.query),
  );

  app.post(
    '/finance/rates/proposal/adopt',
    {
      schema: {
        tags,
        summary:
          'Adopt the rates a scenario proposes (computed again now) from a day on: memory and CPU together, or neither',
        security: secured,
        body: S.RateAdoption,
        response: { 201: S.AdoptedRates, ...problems(404, 422), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await adoptRateProposal(db, callerOf(req), req.body)),
  );

  app.post(
    '/finance/rates',
    {
      schema: {
        tags,
        summary: 'Add a rate from a day on (today or later: the past keeps its prices)',
        security: secured,
        body: S.NewRate,
        response: { 201: Type.Array(S.Rate), ...problems(422), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await chargeback.setRate(db, callerOf(req), req.body)),
  );

  app.get(
    '/finance/statements',
    {
      schema: {
        tags,
        summary:
          "A department's monthly statement: its reservations (memory, CPU, disk) over time, priced by the rate card, in HK cents; CSV with format=csv or Accept: text/csv",
        security: secured,
        querystring: S.StatementQuery,
        response: { 200: S.Statement, ...problems(404, 422), ...problemResponses },
      },
    },
    async (req, reply) => {
      const { department, month, format } = req.query;
      const s = await chargeback.monthlyStatement(db, callerOf(req), department, month);
      const csv =
        format === 'csv' || (format === undefined && /\btext\/csv\b/.test(req.headers.accept ?? ''));
      if (!csv) return s;
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${statementCsvFilename(s)}"`)
        .serializer((body: unknown) => body as string)
        .send(statementCsv(s) as never); // the 200 schema describes the JSON form; CSV is text
    },
  );

  app.get(
    '/finance/expected-charge',
    {
      schema: {
        tags,
        summary:
          "A department's expected charge for a financial year: its reservations and planned pipeline month by month, at the rate card's rates",
        security: secured,
        querystring: S.ExpectedQuery,
        response: { 200: S.Expected, ...problems(404, 422), ...problemResponses },
      },
    },
    (req) => expectedCharge(db, callerOf(req), req.query.department, req.query.year),
  );

  app.post(
    '/finance/months/:month/close',
    {
      schema: {
        tags,
        summary: "Close a month that is over: every department's statement is kept as it stands",
        security: secured,
        params: S.MonthParams,
        response: { 200: S.Closed, ...problems(409, 422), ...problemResponses },
      },
    },
    (req) => chargeback.closeMonth(db, callerOf(req), req.params.month),
  );

  app.post(
    '/finance/adjustments',
    {
      schema: {
        tags,
        summary: "Book a correction (cents, either sign) on a department's statement of an open month",
        security: secured,
        body: S.NewAdjustment,
        response: { 201: S.Statement, ...problems(404, 409, 422), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await chargeback.addAdjustment(db, callerOf(req), req.body)),
  );

  app.get(
    '/finance/scenarios',
    {
      schema: {
        tags,
        summary: "Business-case scenarios: the paper's (built in) and finance's copies",
        security: secured,
        response: { 200: Type.Array(S.Scenario), ...problemResponses },
      },
    },
    (req) => scenarios.listScenarios(db, callerOf(req)),
  );

  app.post(
    '/finance/scenarios',
    {
      schema: {
        tags,
        summary: 'Copy a scenario (the paper by default) under a new name, to edit',
        security: secured,
        body: S.NewScenario,
        response: { 201: S.Scenario, ...problems(404, 409), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await scenarios.copyScenario(db, callerOf(req), req.body)),
  );

  app.get(
    '/finance/scenarios/:name',
    {
      schema: {
        tags,
        summary: 'One scenario with its cost model',
        security: secured,
        params: S.ScenarioParams,
        response: { 200: S.Scenario, ...problems(404), ...problemResponses },
      },
    },
    (req) => scenarios.getScenario(db, callerOf(req), req.params.name),
  );

  app.put(
    '/finance/scenarios/:name',
    {
      schema: {
        tags,
        summary: "Replace a copied scenario's cost model (the paper's is read-only: 409)",
        security: secured,
        params: S.ScenarioParams,
        body: S.ScenarioEdit,
        response: { 200: S.Scenario, ...problems(404, 409, 422), ...problemResponses },
      },
    },
    (req) => scenarios.editScenario(db, callerOf(req), req.params.name, req.body),
  );

  app.delete(
    '/finance/scenarios/:name',
    {
      schema: {
        tags,
        summary: 'Delete a copied scenario',
        security: secured,
        params: S.ScenarioParams,
        response: { 204: Type.Null(), ...problems(404, 409), ...problemResponses },
      },
    },
    async (req, reply) => {
      await scenarios.removeScenario(db, callerOf(req), req.params.name);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/finance/budgets',
    {
      schema: {
        tags,
        summary:
          "Departments' monthly and yearly budgets with what is spent so far this period and the thresholds told",
        security: secured,
        querystring: S.BudgetQuery,
        response: { 200: Type.Array(S.Budget), ...problems(404), ...problemResponses },
      },
    },
    (req) => budgets.listBudgets(db, callerOf(req), req.query.department),
  );

  app.put(
    '/finance/budgets/:department/:period',
    {
      schema: {
        tags,
        summary: "Set a department's budget for each month or financial year, with its alert thresholds",
        security: secured,
        params: S.BudgetParams,
        body: S.BudgetEdit,
        response: { 200: S.Budget, ...problems(404, 422), ...problemResponses },
      },
    },
    (req) => budgets.setBudget(db, callerOf(req), { ...req.params, ...req.body }),
  );

  app.delete(
    '/finance/budgets/:department/:period',
    {
      schema: {
        tags,
        summary: "Remove a department's budget",
        security: secured,
        params: S.BudgetParams,
        response: { 204: Type.Null(), ...problems(404), ...problemResponses },
      },
    },
    async (req, reply) => {
      await budgets.removeBudget(db, callerOf(req), req.params.department, req.params.period);
      return reply.status(204).send(null);
    },
  );
};
