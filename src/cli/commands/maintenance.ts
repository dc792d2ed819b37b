import { type Command, Option } from 'commander';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { parseRef } from '../options.ts';
import { record, when } from '../output.ts';

interface Notice {
  id: string;
  service: string | null;
  platformWide: boolean;
  title: string;
  message: string;
  startsAt: string;
  endsAt: string;
  state: string;
  createdBy: string;
  cancelledAt: string | null;
}

const show = (n: Notice) =>
  record([
    ['id', n.id],
    ['applies to', n.service ?? 'the whole platform'],
    ['title', n.title],
    ['message', n.message || null],
    ['from', when(n.startsAt)],
    ['to', when(n.endsAt)],
    ['state', n.state],
    ['posted by', n.createdBy],
  ]);

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--from`/`--to` as the API wants them (ISO 8601 with zone), from an ISO time or a relative
 * `+30m`, `+2h`, `+1d`: `--from` counts from now and `--to` from the start, so that a command in
 * a script or the README still works on the day it is run. A clear usage error otherwise.
 */
export function windowTimes(raw: { from: string; to: string }, now = Date.now()) {
  const parse = (flag: string, value: string, base: number): number => {
    const rel = /^\+(\d{1,4})(m|h|d)$/.exec(value);
    if (rel) return base + Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
    const t = new Date(value).getTime();
    if (!ISO_WITH_ZONE.test(value) || Number.isNaN(t)) {
      throw usageError(
        `${flag} must be an ISO time with its zone, e.g. 2026-11-20T22:00Z or 2026-11-21T06:00+08:00, or +30m, +2h, +1d (${flag === '--from' ? 'from now' : 'after the start'})`,
      );
    }
    return t;
  };
  const startsAt = parse('--from', raw.from, now);
  const endsAt = parse('--to', raw.to, startsAt);
  return { startsAt: new Date(startsAt).toISOString(), endsAt: new Date(endsAt).toISOString() };
}

/** `govhost maintenance ...`: notices of planned work, shown on the public status page. */
export function registerMaintenanceCommands(program: Command): void {
  const maintenance = program
    .command('maintenance')
    .description('maintenance notices: planned work, shown on the status page and left out of SLA downtime');

  withPaging(
    maintenance.command('list').description('notices not yet over (your services and platform-wide ones)'),
  )
    .option('--service <ref>', 'only notices that apply to this service (DEPT/slug)')
    .option('--all-states', 'also cancelled and past notices')
    .action(
      act<PageOptions & { service?: string; allStates?: boolean }>(async (ctx, opts) => {
        const query = { service: opts.service, include: opts.allStates ? 'all' : 'current' };
        const page = await fetchPage<Notice>(ctx.api, '/maintenance', query, opts);
        printPage(ctx, page, 'maintenance notices', [
          ['id', (n) => n.id],
          ['applies to', (n) => n.service ?? 'platform'],
          ['from', (n) => when(n.startsAt)],
          ['to', (n) => when(n.endsAt)],
          ['state', (n) => n.state],
          ['title', (n) => n.title],
        ]);
      }),
    );

  maintenance
    .command('add')
    .description('announce maintenance of a service or of the whole platform (operators)')
    .option('--service <ref>', 'the service, DEPT/slug')
    .addOption(new Option('--platform', 'the whole platform').conflicts('service'))
    .requiredOption('--from <time>', 'start: ISO time with zone (2026-11-20T22:00Z), or +2h, +1d from now')
    .requiredOption(
      '--to <time>',
      'end: ISO time with zone, or +1h after the start (at most 7 days after it)',
    )
    .requiredOption('--title <text>', 'short title citizens will read')
    .option('--message <text>', 'more detail for citizens')
    .action(
      act<{
        service?: string;
        platform?: boolean;
        from: string;
        to: string;
        title: string;
        message?: string;
      }>(async (ctx, opts) => {
        if (!opts.service && !opts.platform) throw usageError('give --service DEPT/slug or --platform');
        if (opts.service) {
          const { department } = parseRef(opts.service);
          if (!department) throw usageError('--service must be DEPT/slug');
        }
        const n = await ctx.api.post<Notice>('/maintenance', {
          ...(opts.service ? { service: opts.service } : { platformWide: true }),
          title: opts.title,
          ...(opts.message ? { message: opts.message } : {}),
          ...windowTimes(opts),
        });
        ctx.print(n, () => show(n));
      }),
    );

  maintenance
    .command('cancel')
    .description('cancel a notice; one under way ends now')
    .argument('<id>', 'the notice id (see maintenance list)')
    .action(
      act(async (ctx, _opts, id) => {
        const n = await ctx.api.delete<Notice>(`/maintenance/${encodeURIComponent(id)}`);
        ctx.print(n, () => `Cancelled maintenance notice ${n.id} (${n.title}).`);
      }),
    );
}
