import { type Command, InvalidArgumentError, Option } from 'commander';
import { RULE_NAMES, SEVERITIES } from '../../monitoring/alert-rules.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { fetchPage, printPage } from '../lists.ts';
import { integer, parseRef } from '../options.ts';
import { record, table, when } from '../output.ts';
import { resolveRef } from './services.ts';

interface Alert {
  id: string;
  service: string;
  rule: string;
  state: string;
  value: number | null;
  threshold: number | null;
  message: string;
  startedAt: string;
  resolvedAt: string | null;
}

interface Rule {
  rule: string;
  enabled: boolean;
  threshold: number | null;
  unit: string | null;
  forSeconds: number;
  clearSeconds: number;
  source: string;
  severity: string;
  defaults: { threshold: number | null; forSeconds: number; clearSeconds: number };
}

interface Incident {
  id: number;
  service: string;
  rule: string;
  severity: string;
  state: string;
  title: string;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  assignee: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  timeToAcknowledgeSec: number | null;
  timeToResolveSec: number | null;
  timeline?: { kind: string; actor: string; detail: string; at: string }[];
}

interface Channel {
  id: string;
  department: string | null;
  kind: string;
  url: string | null;
  addresses: string[] | null;
  minSeverity: string | null;
  createdBy: string;
  createdAt: string;
}

/** `60`, `60s`, `5m`, `1h` to seconds. */
export function duration(raw: string): number {
  const m = /^(\d{1,6})(s|m|h)?$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError('must be a duration such as 90s, 5m or 1h');
  const n = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  if (n > 86_400) throw new InvalidArgumentError('must be at most 24h');
  return n;
}

function number(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

interface ListOptions {
  all?: boolean;
  service?: string;
  limit?: number;
  offset?: number;
}

/** `--all` here means resolved ones too (as `govhost alerts --all` reads), so paging is by hand. */
const listOptions = (cmd: Command) =>
  cmd
    .option('--service <DEPT/slug>', 'only this service')
    .addOption(new Option('--limit <n>', 'items per page, 1-500 (default 50)').argParser(integer(1, 500)))
    .addOption(new Option('--offset <n>', 'items to skip').argParser(integer(0, 1_000_000)));

const secs = (n: number | null) => (n === null ? null : n >= 120 ? `${Math.round(n / 60)}m` : `${n}s`);

/** A `DEPT/slug` for the API's `service` filter; a bare slug is the caller's department. */
async function serviceFilter(api: Parameters<typeof resolveRef>[0], ref: string | undefined) {
  if (!ref) return undefined;
  const { department } = parseRef(ref);
  return department ? ref : (await resolveRef(api, ref)).name;
}

const showIncident = (i: Incident) =>
  record([
    ['incident', `#${i.id} ${i.severity} ${i.state}`],
    ['service', i.service],
    ['rule', i.rule],
    ['title', i.title],
    ['opened', when(i.openedAt)],
    ['acknowledged', i.acknowledgedAt ? `${when(i.acknowledgedAt)} by ${i.acknowledgedBy}` : null],
    ['assignee', i.assignee],
    ['resolved', i.resolvedAt ? `${when(i.resolvedAt)} by ${i.resolvedBy}` : null],
    ['time to ack', secs(i.timeToAcknowledgeSec)],
    ['time to resolve', secs(i.timeToResolveSec)],
  ]);

/** `govhost alerts ...`: what fires now, and the rules behind it. */
export function registerAlertCommands(program: Command): void {
  const alerts = program.command('alerts').description('alerts and alert rules');

  listOptions(
    alerts
      .command('list', { isDefault: true })
      .description('firing alerts (with --all also resolved ones)')
      .option('--all', 'resolved alerts too'),
  ).action(
    act<ListOptions>(async (ctx, opts) => {
      const service = await serviceFilter(ctx.api, opts.service);
      const page = await fetchPage<Alert>(
        ctx.api,
        '/alerts',
        { state: opts.all ? 'all' : 'firing', service },
        { limit: opts.limit, offset: opts.offset },
      );
      printPage(ctx, page, 'alerts', [
        ['service', (a) => a.service],
        ['rule', (a) => a.rule],
        ['state', (a) => a.state],
        ['since', (a) => when(a.startedAt)],
        ['resolved', (a) => when(a.resolvedAt)],
        ['message', (a) => a.message],
      ]);
    }),
  );

  alerts
    .command('rules')
    .description("a service's alert rules: its tier's defaults and its overrides")
    .argument('<service>', 'DEPT/slug')
    .action(
      act(async (ctx, _opts, ref) => {
        const svc = await resolveRef(ctx.api, ref);
        const res = await ctx.api.get<{ items: Rule[] }>(`${svc.path}/alert-rules`);
        ctx.print(res, () =>
          table(res.items, [
            ['rule', (r) => r.rule],
            ['enabled', (r) => (r.enabled ? 'yes' : 'no')],
            ['threshold', (r) => (r.threshold === null ? null : `${r.threshold} ${r.unit}`)],
            ['for', (r) => secs(r.forSeconds)],
            ['clears after', (r) => secs(r.clearSeconds)],
            ['severity', (r) => r.severity],
            ['source', (r) => r.source],
          ]),
        );
      }),
    );

  alerts
    .command('set')
    .description('override one rule for a service (a setting you do not give keeps its value)')
    .argument('<service>', 'DEPT/slug')
    .argument('<rule>', RULE_NAMES.join(', '))
    .addOption(new Option('--threshold <x>', 'error-rate %, latency ms, memory %').argParser(number))
    .addOption(new Option('--for <duration>', 'how long before it fires: 60s, 5m, 1h').argParser(duration))
    .addOption(
      new Option('--clear <duration>', 'how long it must be gone before a firing alert clears').argParser(
        duration,
      ),
    )
    .option('--off', 'turn the rule off for this service (without --off the rule is on)')
    .action(
      act<{ threshold?: number; for?: number; clear?: number; off?: boolean }>(
        async (ctx, opts, ref, rule) => {
          if (!(RULE_NAMES as readonly string[]).includes(rule ?? '')) {
            throw usageError(`rule must be one of ${RULE_NAMES.join(', ')}`);
          }
          const svc = await resolveRef(ctx.api, ref as string);
          const r = await ctx.api.put<Rule>(`${svc.path}/alert-rules/${rule}`, {
            enabled: !opts.off,
            ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
            ...(opts.for !== undefined ? { forSeconds: opts.for } : {}),
            ...(opts.clear !== undefined ? { clearSeconds: opts.clear } : {}),
          });
          ctx.print(r, () =>
            r.enabled
              ? `${svc.name} ${r.rule}: fires when ${r.threshold === null ? 'it happens' : `above ${r.threshold} ${r.unit}`} for ${secs(r.forSeconds)}, clears after ${secs(r.clearSeconds)} (${r.severity}).`
              : `${svc.name} ${r.rule}: off.`,
          );
        },
      ),
    );

  alerts
    .command('reset')
    .description("drop a service's override: the rule follows its tier's default")
    .argument('<service>', 'DEPT/slug')
    .argument('<rule>', RULE_NAMES.join(', '))
    .action(
      act(async (ctx, _opts, ref, rule) => {
        const svc = await resolveRef(ctx.api, ref as string);
        const r = await ctx.api.delete<Rule>(`${svc.path}/alert-rules/${encodeURIComponent(rule ?? '')}`);
        ctx.print(
          r,
          () =>
            `${svc.name} ${r.rule}: back to the tier's default (${r.threshold ?? '-'} for ${secs(r.forSeconds)}).`,
        );
      }),
    );
}

/** `govhost incidents ...`: the 24x7 desk's work list. */
export function registerIncidentCommands(program: Command): void {
  const incidents = program.command('incidents').description('incidents opened by alerts');

  listOptions(
    incidents
      .command('list', { isDefault: true })
      .description('open incidents (with --all also resolved ones)')
      .option('--all', 'resolved incidents too'),
  ).action(
    act<ListOptions>(async (ctx, opts) => {
      const service = await serviceFilter(ctx.api, opts.service);
      const page = await fetchPage<Incident>(
        ctx.api,
        '/incidents',
        { state: opts.all ? 'all' : 'open', service },
        { limit: opts.limit, offset: opts.offset },
      );
      printPage(ctx, page, 'incidents', [
        ['id', (i) => i.id],
        ['sev', (i) => i.severity],
        ['state', (i) => i.state],
        ['service', (i) => i.service],
        ['rule', (i) => i.rule],
        ['opened', (i) => when(i.openedAt)],
        ['ack by', (i) => i.acknowledgedBy],
        ['assignee', (i) => i.assignee],
        ['duration', (i) => secs(i.timeToResolveSec)],
      ]);
    }),
  );

  const id = (raw: string | undefined) => {
    if (!raw || !/^\d{1,15}$/.test(raw)) throw usageError('the incident id is a number, e.g. 12');
    return raw;
  };

  incidents
    .command('show')
    .description('an incident and its timeline')
    .argument('<id>', 'incident number')
    .action(
      act(async (ctx, _opts, raw) => {
        const i = await ctx.api.get<Incident>(`/incidents/${id(raw)}`);
        ctx.print(i, () =>
          [
            showIncident(i),
            '',
            table(i.timeline ?? [], [
              ['at', (e) => when(e.at)],
              ['event', (e) => e.kind],
              ['by', (e) => e.actor],
              ['detail', (e) => e.detail || null],
            ]),
          ].join('\n'),
        );
      }),
    );

  incidents
    .command('ack')
    .description('acknowledge an incident: you are on it')
    .argument('<id>', 'incident number')
    .action(
      act(async (ctx, _opts, raw) => {
        const i = await ctx.api.post<Incident>(`/incidents/${id(raw)}/acknowledge`);
        ctx.print(i, () => `Acknowledged incident #${i.id} after ${secs(i.timeToAcknowledgeSec)}.`);
      }),
    );

  incidents
    .command('assign')
    .description('give an incident to a user')
    .argument('<id>', 'incident number')
    .argument('<user>', 'username')
    .action(
      act(async (ctx, _opts, raw, user) => {
        const i = await ctx.api.post<Incident>(`/incidents/${id(raw)}/assign`, { user });
        ctx.print(i, () => `Incident #${i.id} is assigned to ${i.assignee}.`);
      }),
    );

  incidents
    .command('note')
    .description("add a note to an incident's timeline")
    .argument('<id>', 'incident number')
    .argument('<text...>', 'the note')
    .action(
      act(async (ctx, _opts, raw, ...words) => {
        const text = (words.flat() as string[]).join(' ');
        const i = await ctx.api.post<Incident>(`/incidents/${id(raw)}/notes`, { text });
        ctx.print(i, () => `Noted on incident #${i.id}.`);
      }),
    );

  incidents
    .command('resolve')
    .description('resolve an incident by hand')
    .argument('<id>', 'incident number')
    .option('--note <text>', 'why, for the timeline')
    .action(
      act<{ note?: string }>(async (ctx, opts, raw) => {
        const i = await ctx.api.post<Incident>(
          `/incidents/${id(raw)}/resolve`,
          opts.note ? { note: opts.note } : {},
        );
        ctx.print(i, () => `Resolved incident #${i.id} after ${secs(i.timeToResolveSec)}.`);
      }),
    );
}

/** `govhost channels ...`: where incidents are notified. */
export function registerChannelCommands(program: Command): void {
  const channels = program
    .command('channels')
    .description('notification channels: signed webhooks and e-mail');
  const common = (cmd: Command) =>
    cmd
      .addOption(
        new Option('--min-severity <sev>', 'only incidents this severe or worse').choices(SEVERITIES),
      )
      .option('--department <code>', 'for this department (central team: default platform-wide)');

  channels
    .command('list')
    .description('notification channels (your department, for a department user)')
    .action(
      act(async (ctx) => {
        const res = await ctx.api.get<{ items: Channel[] }>('/notification-channels');
        ctx.print(res, () =>
          res.items.length === 0
            ? 'no notification channels'
            : table(res.items, [
                ['id', (c) => c.id],
                ['department', (c) => c.department ?? '(all)'],
                ['kind', (c) => c.kind],
                ['target', (c) => c.url ?? c.addresses],
                ['min sev', (c) => c.minSeverity],
                ['by', (c) => c.createdBy],
              ]),
        );
      }),
    );

  common(
    channels.command('add-webhook').description('POST signed JSON to a URL').argument('<url>', 'https://...'),
  ).action(
    act<{ minSeverity?: string; department?: string }>(async (ctx, opts, url) => {
      const res = await ctx.api.post<{ channel: Channel; secret: string }>('/notification-channels', {
        kind: 'webhook',
        url,
        ...opts,
      });
      ctx.print(res, () =>
        [
          `Added webhook ${res.channel.id} for ${res.channel.department ?? 'every department'}.`,
          `signing secret: ${res.secret}`,
          'This secret will not be shown again. Check X-GovHost-Signature: v1=hex(HMAC-SHA256(secret, X-GovHost-Timestamp + "." + body)).',
        ].join('\n'),
      );
    }),
  );

  common(
    channels
      .command('add-email')
      .description('send plain-text e-mail')
      .argument('<address...>', 'one or more e-mail addresses'),
  ).action(
    act<{ minSeverity?: string; department?: string }>(async (ctx, opts, ...addresses) => {
      const res = await ctx.api.post<{ channel: Channel }>('/notification-channels', {
        kind: 'email',
        addresses: addresses.flat(),
        ...opts,
      });
      ctx.print(res, () => `Added e-mail channel ${res.channel.id} to ${res.channel.addresses?.join(', ')}.`);
    }),
  );

  channels
    .command('remove')
    .description('remove a channel')
    .argument('<id>', 'channel id, from govhost channels list')
    .action(
      act(async (ctx, _opts, cid) => {
        await ctx.api.delete(`/notification-channels/${encodeURIComponent(cid ?? '')}`);
        ctx.print(undefined, () => `Removed channel ${cid}.`);
      }),
    );

  channels
    .command('test')
    .description('send a test notification now')
    .argument('<id>', 'channel id')
    .action(
      act(async (ctx, _opts, cid) => {
        const res = await ctx.api.post<{ delivered: boolean; detail: string }>(
          `/notification-channels/${encodeURIComponent(cid ?? '')}/test`,
        );
        ctx.print(res, () => `Delivered: ${res.detail}.`);
      }),
    );
}
