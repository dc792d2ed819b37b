import { type Command, Option } from 'commander';
import { CHANNELS, ORIGINS } from '../../catalog/catalog.tables.ts';
import { SLA_TIER_NAMES } from '../../catalog/sla-tiers.ts';
import { REQUEST_STATES } from '../../provisioning/provisioning.tables.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { integer, listOf } from '../options.ts';
import { record, table, when, yesNo } from '../output.ts';
import { sizeMb } from './capacity.ts';
import { parseMemory } from './runtime.ts';

interface HostingRequest {
  id: string;
  service: string;
  nameEn: string;
  nameZh: string;
  origin: string;
  egisRef: string | null;
  channels: string[];
  personalised: boolean;
  slaTier: string;
  instances: number;
  memoryMb: number;
  cpu: number;
  storageMb: number;
  goLive: string;
  justification: string;
  state: string;
  reasons: string[];
  requestedBy: string;
  decidedBy: string | null;
  autoApproved: boolean;
  rejectReason: string | null;
  hostname: string | null;
  submittedAt: string;
  approvedAt: string | null;
  rejectedAt: string | null;
  cancelledAt: string | null;
  leadTimeMs: number | null;
}

interface Figures {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
}

/** A lead time for people: milliseconds, seconds, minutes, hours or days, whichever reads best. */
export function duration(ms: number | null): string | null {
  if (ms === null) return null;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

const show = (r: HostingRequest) =>
  record([
    ['id', r.id],
    ['service', r.service],
    ['name (en)', r.nameEn],
    ['name (zh)', r.nameZh],
    ['origin', r.egisRef ? `${r.origin} (${r.egisRef})` : r.origin],
    ['channels', r.channels],
    ['personalised', yesNo(r.personalised)],
    ['sla tier', r.slaTier],
    [
      'size',
      `${r.instances} × ${r.memoryMb}M, ${r.cpu} CPU${r.storageMb ? `, ${r.storageMb}M disk` : ''} each`,
    ],
    ['go-live', r.goLive],
    ['justification', r.justification || null],
    ['state', r.autoApproved ? `${r.state} (automatically)` : r.state],
    ['waiting because', r.reasons.length > 0 ? r.reasons.join('\n') : null],
    ['rejected because', r.rejectReason],
    ['requested by', r.requestedBy],
    ['decided by', r.decidedBy],
    ['hostname', r.hostname],
    ['submitted', when(r.submittedAt)],
    ['ready', when(r.approvedAt)],
    ['rejected', when(r.rejectedAt)],
    ['cancelled', when(r.cancelledAt)],
    ['lead time', duration(r.leadTimeMs)],
  ]);

/**
 * `--go-live` as the API wants it (YYYY-MM-DD), from a date or `+90d` (days from today, UTC), so
 * that a documented command still works on the day it is run.
 */
export const isoDay = (raw: string, now = Date.now()) => {
  const rel = /^\+(\d{1,4})d$/.exec(raw);
  if (rel) return new Date(now + Number(rel[1]) * 86_400_000).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`))) {
    throw usageError(
      `--go-live must be a date written YYYY-MM-DD or +90d (from today), got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
};

/** `govhost requests ...`: ask for hosting, and the operators' approval queue. */
export function registerRequestCommands(program: Command): void {
  const requests = program
    .command('requests')
    .description('hosting requests: ask for hosting; operators approve or reject what waits');

  withPaging(
    requests
      .command('list', { isDefault: true })
      .description('hosting requests, newest first (your department, for a department user)'),
  )
    .addOption(new Option('--state <state>', 'only requests in this state').choices(REQUEST_STATES))
    .option('--department <code>', 'only requests of this department')
    .action(
      act<PageOptions & { state?: string; department?: string }>(async (ctx, opts) => {
        const query = { state: opts.state, department: opts.department };
        const page = await fetchPage<HostingRequest>(ctx.api, '/requests', query, opts);
        printPage(ctx, page, 'hosting requests', [
          ['id', (r) => r.id],
          ['service', (r) => r.service],
          ['tier', (r) => r.slaTier],
          ['size', (r) => `${r.instances}×${r.memoryMb}M`],
          ['go-live', (r) => r.goLive],
          ['state', (r) => r.state],
          ['submitted', (r) => when(r.submittedAt)],
          ['lead time / reason', (r) => duration(r.leadTimeMs) ?? r.reasons[0] ?? r.rejectReason],
        ]);
      }),
    );

  requests
    .command('show')
    .description('show a hosting request')
    .argument('<id>', 'the request id (see requests list)')
    .action(
      act(async (ctx, _opts, id) => {
        const r = await ctx.api.get<HostingRequest>(`/requests/${encodeURIComponent(id as string)}`);
        ctx.print(r, () => show(r));
      }),
    );

  requests
    .command('new')
    .description(
      'ask for hosting: approved and provisioned at once when it fits, else queued for an operator',
    )
    .requiredOption('--slug <slug>', 'service name in the department, e.g. clinic-booking')
    .requiredOption('--name-en <name>', 'English name')
    .requiredOption('--name-zh <name>', 'Chinese name')
    .addOption(
      new Option('--tier <tier>', 'SLA tier: gold 99.95 %, silver 99.9 %, bronze 99.5 %')
        .choices(SLA_TIER_NAMES)
        .makeOptionMandatory(),
    )
    .requiredOption('--instances <n>', 'expected instances', integer(1, 100))
    .requiredOption('--memory <size>', 'memory per instance, e.g. 512M or 1G')
    .option('--disk <size>', 'expected disk per instance, e.g. 2G (reserved on a farm)', sizeMb)
    .requiredOption('--go-live <date>', 'planned go-live, YYYY-MM-DD or +90d (days from today)')
    .option('--department <code>', 'department (default: yours)')
    .addOption(new Option('--origin <origin>', 'new, or migrated from EGIS').choices(ORIGINS).default('new'))
    .option('--egis-ref <ref>', "the service's identifier on EGIS (migrated services)")
    .option('--channels <list>', `${CHANNELS.join(',')} or one of them`, listOf(CHANNELS), ['web'])
    .option('--personalised', "linked to citizens' MyGovHK accounts")
    .option('--description <text>', 'what the service does')
    .option('--justification <text>', 'why it is needed, for the operators')
    .action(
      act<{
        slug: string;
        nameEn: string;
        nameZh: string;
        tier: string;
        instances: number;
        memory: string;
        disk?: number;
        goLive: string;
        department?: string;
        origin: string;
        egisRef?: string;
        channels: string[];
        personalised?: boolean;
        description?: string;
        justification?: string;
      }>(async (ctx, opts) => {
        const r = await ctx.api.post<HostingRequest>('/requests', {
          ...(opts.department ? { department: opts.department } : {}),
          slug: opts.slug,
          nameEn: opts.nameEn,
          nameZh: opts.nameZh,
          origin: opts.origin,
          ...(opts.egisRef ? { egisRef: opts.egisRef } : {}),
          channels: opts.channels,
          personalised: opts.personalised === true,
          slaTier: opts.tier,
          instances: opts.instances,
          memoryMb: parseMemory(opts.memory),
          ...(opts.disk !== undefined ? { storageMb: opts.disk } : {}),
          goLive: isoDay(opts.goLive),
          ...(opts.description ? { description: opts.description } : {}),
          ...(opts.justification ? { justification: opts.justification } : {}),
        });
        ctx.print(r, () =>
          r.state === 'approved'
            ? `Approved and provisioned ${r.service} at ${r.hostname} in ${duration(r.leadTimeMs)}.\n${show(r)}`
            : `Request ${r.id} waits for an operator:\n  ${r.reasons.join('\n  ')}\n${show(r)}`,
        );
      }),
    );

  requests
    .command('approve')
    .description('approve and provision a pending request (operators)')
    .argument('<id>', 'the request id')
    .action(
      act(async (ctx, _opts, id) => {
        const r = await ctx.api.post<HostingRequest>(`/requests/${encodeURIComponent(id as string)}/approve`);
        ctx.print(
          r,
          () => `Approved ${r.service}: ready at ${r.hostname}, ${duration(r.leadTimeMs)} after the request.`,
        );
      }),
    );

  requests
    .command('reject')
    .description('reject a pending request, saying why (operators)')
    .argument('<id>', 'the request id')
    .requiredOption('--reason <text>', 'why, for the department')
    .action(
      act<{ reason: string }>(async (ctx, opts, id) => {
        const r = await ctx.api.post<HostingRequest>(`/requests/${encodeURIComponent(id as string)}/reject`, {
          reason: opts.reason,
        });
        ctx.print(r, () => `Rejected the request for ${r.service}.`);
      }),
    );

  requests
    .command('cancel')
    .description('withdraw a pending request')
    .argument('<id>', 'the request id')
    .action(
      act(async (ctx, _opts, id) => {
        const r = await ctx.api.post<HostingRequest>(`/requests/${encodeURIComponent(id as string)}/cancel`);
        ctx.print(r, () => `Cancelled the request for ${r.service}.`);
      }),
    );

  requests
    .command('lead-times')
    .description('time from request to ready: median, 90th percentile, per month')
    .action(
      act(async (ctx) => {
        const report = await ctx.api.get<Figures & { months: (Figures & { month: string })[] }>(
          '/requests/lead-times',
        );
        ctx.print(report, () =>
          report.count === 0
            ? 'No request has been provisioned yet.'
            : `${table(
                [...report.months, { month: 'all', ...report }],
                [
                  ['month', (m) => m.month],
                  ['provisioned', (m) => m.count],
                  ['median', (m) => duration(m.medianMs)],
                  ['p90', (m) => duration(m.p90Ms)],
                ],
              )}\nThe paper (paragraph 11) expects a ready platform to cut 4-9 months from a new service's lead time.`,
        );
      }),
    );
}
