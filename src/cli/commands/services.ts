import { type Command, Option } from 'commander';
import { CHANNELS, LIFECYCLE_STATES, ORIGINS } from '../../catalog/catalog.tables.ts';
import { SLA_TIER_NAMES } from '../../catalog/sla-tiers.ts';
import type { ApiClient } from '../client.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { listOf, parseRef, patchOf } from '../options.ts';
import { record, when, yesNo } from '../output.ts';
import { registerServiceHttpsCommand } from './certs.ts';

interface Service {
  department: string;
  slug: string;
  nameEn: string;
  nameZh: string;
  description: string;
  origin: string;
  egisRef: string | null;
  channels: string[];
  personalised: boolean;
  slaTier: string;
  slaTarget: number;
  lifecycle: string;
  hostname: string;
  createdAt: string;
  updatedAt: string;
}

/** Options that create and update share; on update each is optional. */
interface ServiceFields {
  nameEn?: string;
  nameZh?: string;
  description?: string;
  egisRef?: string | false;
  channels?: string[];
  personalised?: boolean;
  slaTier?: string;
}

const show = (s: Service) =>
  record([
    ['service', `${s.department}/${s.slug}`],
    ['name (en)', s.nameEn],
    ['name (zh)', s.nameZh],
    ['description', s.description || null],
    ['origin', s.origin],
    ['egis ref', s.egisRef],
    ['channels', s.channels],
    ['personalised', yesNo(s.personalised)],
    ['sla', `${s.slaTier} (${s.slaTarget} %)`],
    ['lifecycle', s.lifecycle],
    ['hostname', s.hostname],
    ['created', when(s.createdAt)],
    ['updated', when(s.updatedAt)],
  ]);

/** A service named `DEPT/slug`, or `slug` in the caller's own department, and its API path. */
export async function resolveRef(api: ApiClient, ref: string): Promise<{ name: string; path: string }> {
  let { department, slug } = parseRef(ref);
  if (!department) {
    const me = await api.get<{ username: string; department: string | null }>('/me');
    if (!me.department) {
      throw usageError(`${me.username} belongs to no department: name the service as DEPT/${slug}`);
    }
    department = me.department;
  }
  return {
    name: `${department.toUpperCase()}/${slug}`,
    path: `/services/${encodeURIComponent(department)}/${encodeURIComponent(slug)}`,
  };
}

function addFieldOptions(cmd: Command, required: boolean): Command {
  const option = (flags: string, description: string) => {
    const o = new Option(flags, description);
    return required ? o.makeOptionMandatory() : o;
  };
  cmd
    .addOption(option('--name-en <name>', 'English name'))
    .addOption(option('--name-zh <name>', 'Chinese name'))
    .addOption(
      option('--channels <list>', `${CHANNELS.join(',')} or one of them`).argParser(listOf(CHANNELS)),
    )
    .addOption(
      option('--sla-tier <tier>', 'gold 99.95 %, silver 99.9 %, bronze 99.5 %').choices(SLA_TIER_NAMES),
    )
    .option('--personalised', "linked to citizens' MyGovHK accounts")
    .option('--egis-ref <ref>', "the service's identifier on EGIS")
    .option('--description <text>', 'what the service does');
  if (required) return cmd;
  // Only after the positive options: a --no-x defined alone would make x default to true.
  return cmd
    .option('--no-personalised', "no longer linked to citizens' accounts")
    .option('--no-egis-ref', 'remove the EGIS identifier');
}

/** `govhost services ...`: the catalogue of e-government services. */
export function registerServiceCommands(program: Command): void {
  const services = program.command('services').description('the service catalogue');

  withPaging(services.command('list').description('list services (your department, for a department user)'))
    .option('--department <code>', 'only services of this department')
    .addOption(new Option('--lifecycle <state>', 'only services in this state').choices(LIFECYCLE_STATES))
    .addOption(new Option('--origin <origin>', 'only migrated or new services').choices(ORIGINS))
    .action(
      act<PageOptions & { department?: string; lifecycle?: string; origin?: string }>(async (ctx, opts) => {
        const { department, lifecycle, origin } = opts;
        const page = await fetchPage<Service>(ctx.api, '/services', { department, lifecycle, origin }, opts);
        printPage(ctx, page, 'services', [
          ['service', (s) => `${s.department}/${s.slug}`],
          ['name', (s) => s.nameEn],
          ['lifecycle', (s) => s.lifecycle],
          ['origin', (s) => s.origin],
          ['sla', (s) => s.slaTier],
          ['channels', (s) => s.channels],
          ['hostname', (s) => s.hostname],
        ]);
      }),
    );

  services
    .command('show')
    .description('show a service')
    .argument('<ref>', 'DEPT/slug, or slug in your own department')
    .action(
      act(async (ctx, _opts, ref) => {
        const s = await ctx.api.get<Service>((await resolveRef(ctx.api, ref)).path);
        ctx.print(s, () => show(s));
      }),
    );

  addFieldOptions(
    services
      .command('create')
      .description('register a service')
      .argument('<slug>', 'lower-case name in its department, e.g. tax-return (or DEPT/slug)')
      .addOption(
        new Option('--origin <origin>', 'migrated from EGIS, or new').choices(ORIGINS).makeOptionMandatory(),
      )
      .option('--department <code>', 'department (default: yours)'),
    true,
  ).action(
    act<ServiceFields & { origin: string; department?: string }>(async (ctx, opts, ref) => {
      const { department: fromRef, slug } = parseRef(ref);
      if (fromRef && opts.department && fromRef.toUpperCase() !== opts.department.toUpperCase()) {
        throw usageError(`${ref} names department ${fromRef} but --department says ${opts.department}`);
      }
      const s = await ctx.api.post<Service>('/services', {
        ...opts,
        department: fromRef ?? opts.department,
        slug,
        egisRef: opts.egisRef || undefined,
      });
      ctx.print(s, () => show(s));
    }),
  );

  addFieldOptions(
    services
      .command('update')
      .description('change a service, or move it through its lifecycle')
      .argument('<ref>', 'DEPT/slug, or slug in your own department')
      .addOption(
        new Option('--lifecycle <state>', 'move the service to this state').choices(LIFECYCLE_STATES),
      ),
    false,
  ).action(
    act<ServiceFields & { lifecycle?: string }>(async (ctx, opts, ref) => {
      const body = patchOf(
        { ...opts, egisRef: opts.egisRef === false ? null : opts.egisRef },
        'at least one option, e.g. --lifecycle active (see --help)',
      );
      const s = await ctx.api.patch<Service>((await resolveRef(ctx.api, ref)).path, body);
      ctx.print(s, () => show(s));
    }),
  );

  services
    .command('delete')
    .description('delete a planned or retired service')
    .argument('<ref>', 'DEPT/slug, or slug in your own department')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref);
        await ctx.api.delete(service.path);
        ctx.print(undefined, () => `Deleted service ${service.name}.`);
      }),
    );

  registerServiceHttpsCommand(services);
}
