import { type Command, Option } from 'commander';
import { DOMAIN_STATES } from '../../edge/domains.tables.ts';
import { act } from '../context.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { record, table, when } from '../output.ts';
import { resolveRef } from './services.ts';

interface Domain {
  hostname: string;
  service: string;
  state: string;
  source: string;
  txtRecord: { name: string; value: string };
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  rejectReason: string | null;
}

const stateOf = (d: Domain) => (d.rejectReason ? `${d.state}: ${d.rejectReason}` : d.state);

const COLUMNS: [string, (d: Domain) => string | null][] = [
  ['hostname', (d) => d.hostname],
  ['service', (d) => d.service],
  ['state', stateOf],
  ['requested', (d) => `${when(d.requestedAt)} by ${d.requestedBy}`],
  ['decided', (d) => (d.decidedBy ? `${when(d.decidedAt)} by ${d.decidedBy}` : null)],
];

const path = (hostname: string) => `/domains/${encodeURIComponent(hostname)}`;

/** `govhost domains ...`: a service's custom host names, and the operators' approval queue. */
export function registerDomainCommands(program: Command): void {
  const domains = program
    .command('domains')
    .description("custom host names: a service claims them, an operator approves them, then they're routed");

  domains
    .command('add')
    .description('claim a host name for a service (routed once an operator approves it)')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .argument('<hostname>', 'e.g. etax.ird.gov.hk')
    .action(
      act(async (ctx, _opts, ref, hostname) => {
        const service = await resolveRef(ctx.api, ref as string);
        const d = await ctx.api.post<Domain>(`${service.path}/domains`, { hostname });
        ctx.print(d, () =>
          [
            `${d.hostname} is claimed for ${d.service}; it waits for an operator's approval.`,
            'If the platform checks DNS, publish this record first:',
            `  ${d.txtRecord.name}. TXT "${d.txtRecord.value}"`,
          ].join('\n'),
        );
      }),
    );

  withPaging(
    domains
      .command('list', { isDefault: true })
      .description("a service's host names, or every claim you may see (operators: all departments)")
      .argument('[service]', 'DEPT/slug, or slug in your department'),
  )
    .addOption(new Option('--state <state>', 'only claims in this state').choices(DOMAIN_STATES))
    .action(
      act<PageOptions & { state?: string }>(async (ctx, opts, ref) => {
        if (typeof ref === 'string') {
          const service = await resolveRef(ctx.api, ref);
          const items = (await ctx.api.get<Domain[]>(`${service.path}/domains`)).filter(
            (d) => !opts.state || d.state === opts.state,
          );
          ctx.print(items, () =>
            items.length === 0
              ? `${service.name} has no custom host names`
              : table(items, [
                  ...COLUMNS.filter(([h]) => h !== 'service'),
                  ['TXT value', (d) => d.txtRecord.value],
                ]),
          );
          return;
        }
        const page = await fetchPage<Domain>(ctx.api, '/domains', { state: opts.state }, opts);
        printPage(ctx, page, 'custom host names', COLUMNS);
      }),
    );

  domains
    .command('approve')
    .description('approve a claim: the name is routed to its service (operators)')
    .argument('<hostname>', 'the claimed host name')
    .action(
      act(async (ctx, _opts, hostname) => {
        const d = await ctx.api.post<Domain>(`${path(hostname as string)}/approve`);
        ctx.print(d, () => `Approved ${d.hostname}: routed to ${d.service}.`);
      }),
    );

  domains
    .command('reject')
    .description('reject a claim, saying why (operators); an approved name stops being routed')
    .argument('<hostname>', 'the claimed host name')
    .requiredOption('--reason <text>', 'why, for the department')
    .action(
      act<{ reason: string }>(async (ctx, opts, hostname) => {
        const d = await ctx.api.post<Domain>(`${path(hostname as string)}/reject`, { reason: opts.reason });
        ctx.print(d, () => `Rejected ${d.hostname} (${d.service}).\n${record([['reason', d.rejectReason]])}`);
      }),
    );

  domains
    .command('remove')
    .description("remove a service's claim on a host name (an approved one stops being routed)")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .argument('<hostname>', 'the claimed host name')
    .action(
      act(async (ctx, _opts, ref, hostname) => {
        const service = await resolveRef(ctx.api, ref as string);
        await ctx.api.delete(`${service.path}/domains/${encodeURIComponent(hostname as string)}`);
        ctx.print({ removed: hostname }, () => `Removed ${hostname as string} from ${service.name}.`);
      }),
    );
}
