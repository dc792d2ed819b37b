import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Command, Option } from 'commander';
import { supportCsv } from '../../support/report.csv.ts';
import type { SupportReport } from '../../support/report.logic.ts';
import type { Target } from '../../support/sla.logic.ts';
import type { Ticket, TimelineEntry } from '../../support/ticket.logic.ts';
import { PRIORITIES, TICKET_KINDS, TICKET_STATUSES } from '../../support/ticket.tables.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { integer } from '../options.ts';
import { record, table, when } from '../output.ts';

type Shown = Ticket & {
  timeline: TimelineEntry[];
  attachments: {
    id: string;
    filename: string;
    mediaType: string;
    sizeBytes: number;
    by: string;
    at: string;
  }[];
};

const ticketNumber = (v: string) => {
  const n = Number(v.replace(/^#/, ''));
  if (!Number.isSafeInteger(n) || n < 1)
    throw usageError(`${JSON.stringify(v)} is not a ticket number such as 42`);
  return n;
};

/** How a clock reads: "12/30 min running (due 10:45)". */
const clock = (c: Ticket['sla'] extends infer S ? (S extends { response: infer C } ? C : never) : never) =>
  `${c.elapsedMinutes}/${c.targetMinutes} min ${c.state}${c.near && c.state === 'running' ? ' NEAR' : ''}${c.dueAt ? ` (due ${when(c.dueAt)})` : ''} [${c.hours}]`;

const statusOf = (t: Ticket) =>
  `${t.status}${t.responseBreachedAt || t.resolutionBreachedAt ? ' (SLA breached)' : ''}`;

/** `govhost tickets …`: the support desk, for departments and the central team (issue 17). */
export function registerTicketCommands(program: Command): void {
  const tickets = program
    .command('tickets')
    .description('support tickets between departments and the central desk');

  withPaging(tickets.command('list', { isDefault: true }).description('tickets you may see, newest first'))
    .option('--department <code>', 'only this department')
    .addOption(new Option('--status <status>', 'only this status').choices(TICKET_STATUSES))
    .addOption(new Option('--priority <p>', 'only this priority').choices(PRIORITIES))
    .option('--assignee <username>', 'only tickets assigned to this operator')
    .option('--open', 'only tickets neither resolved nor closed')
    .action(
      act<
        PageOptions & {
          department?: string;
          status?: string;
          priority?: string;
          assignee?: string;
          open?: boolean;
        }
      >(async (ctx, opts) => {
        const page = await fetchPage<Ticket>(
          ctx.api,
          '/tickets',
          {
            department: opts.department,
            status: opts.status,
            priority: opts.priority,
            assignee: opts.assignee,
            open: opts.open,
          },
          opts,
        );
        printPage(ctx, page, 'tickets', [
          ['#', (t) => t.id],
          ['pri', (t) => t.priority],
          ['department', (t) => t.service ?? t.department],
          ['title', (t) => t.title],
          ['status', statusOf],
          ['assignee', (t) => t.assignee],
          ['raised', (t) => when(t.raisedAt)],
        ]);
      }),
    );

  tickets
    .command('show')
    .description('one ticket: details, SLA clocks, attachments and its timeline')
    .argument('<number>', 'the ticket number')
    .action(
      act(async (ctx, _opts, n) => {
        const t = await ctx.api.get<Shown>(`/tickets/${ticketNumber(n as string)}`);
        ctx.print(t, () =>
          [
            record([
              ['ticket', `#${t.id} ${t.title}`],
              ['kind', `${t.kind}, ${t.priority}`],
              ['department', t.department],
              ['service', t.service],
              ['status', statusOf(t)],
              ['may move to', t.nextStates.join(', ') || null],
              ['raised', `${when(t.raisedAt)} by ${t.raisedBy}`],
              ['assignee', t.assignee],
              ['watchers', t.watchers.join(', ') || null],
              ['incidents', t.incidents.join(', ') || null],
              ['SLA tier', t.slaTier],
              ['response', t.sla ? clock(t.sla.response) : null],
              ['resolution', t.sla ? clock(t.sla.resolution) : null],
            ]),
            '',
            t.description,
            ...(t.attachments.length
              ? [
                  '',
                  table(t.attachments, [
                    ['attachment', (a) => a.filename],
                    ['type', (a) => a.mediaType],
                    ['bytes', (a) => a.sizeBytes],
                    ['by', (a) => a.by],
                  ]),
                ]
              : []),
            '',
            table(t.timeline, [
              ['when', (e) => when(e.at)],
              ['by', (e) => e.by],
              [
                'what',
                (e) =>
                  e.kind === 'status'
                    ? `${e.from ?? '—'} → ${e.to}`
                    : `${e.kind}${e.internal ? ' (internal)' : ''}`,
              ],
              ['text', (e) => e.body],
            ]),
          ].join('\n'),
        );
      }),
    );

  tickets
    .command('raise')
    .description('raise a ticket with the central desk')
    .requiredOption('--title <text>', 'one line saying what is wrong or wanted')
    .requiredOption('--description <text>', 'the details (- reads standard input)')
    .addOption(new Option('--priority <p>', 'P1 (most urgent) to P4').choices(PRIORITIES).default('P3'))
    .addOption(new Option('--kind <kind>', 'what it is').choices(TICKET_KINDS).default('question'))
    .option('--service <ref>', 'the service it is about: slug, or DEPT/slug')
    .option('--department <code>', 'the department (operators; a department user raises for its own)')
    .option('--watchers <list>', 'usernames told of its changes, separated by ,', (v: string) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .option('--attach <file>', 'attach a PNG, JPEG, PDF or text file (up to 512 KiB)')
    .option(
      '--raised-at <time>',
      'the desk only, moving a ticket from an older desk: when it was first raised there (ISO 8601, in the past year)',
    )
    .action(
      act<{
        title: string;
        description: string;
        priority: string;
        kind: string;
        service?: string;
        department?: string;
        watchers?: string[];
        attach?: string;
        raisedAt?: string;
      }>(async (ctx, opts) => {
        let description = opts.description;
        if (description === '-') {
          const chunks: Buffer[] = [];
          for await (const c of process.stdin) chunks.push(c as Buffer);
          description = Buffer.concat(chunks).toString('utf8');
        }
        const file = opts.attach ? await readAttachment(opts.attach) : null;
        let t = await ctx.api.post<Ticket>('/tickets', {
          title: opts.title,
          description,
          priority: opts.priority,
          kind: opts.kind,
          service: opts.service,
          department: opts.department,
          watchers: opts.watchers,
          raisedAt: opts.raisedAt,
        });
        if (file) t = await ctx.api.post<Ticket>(`/tickets/${t.id}/attachments`, file);
        ctx.print(t, () => `Raised ticket #${t.id} (${t.priority}, ${t.slaTier} SLA).`);
      }),
    );

  tickets
    .command('comment')
    .description('add a comment (the desk may make it internal: never shown to the department)')
    .argument('<number>', 'the ticket number')
    .argument('<text>', 'the comment')
    .option('--internal', 'for the desk only')
    .action(
      act<{ internal?: boolean }>(async (ctx, opts, n, text) => {
        const t = await ctx.api.post<Ticket>(`/tickets/${ticketNumber(n as string)}/comments`, {
          body: text,
          internal: opts.internal ?? false,
        });
        ctx.print(t, () => `Commented on #${t.id} (${t.status}).`);
      }),
    );

  tickets
    .command('attach')
    .description('attach a PNG, JPEG, PDF or text file (up to 512 KiB; checked by content)')
    .argument('<number>', 'the ticket number')
    .argument('<file>', 'the file')
    .action(
      act(async (ctx, _opts, n, file) => {
        const t = await ctx.api.post<Ticket>(
          `/tickets/${ticketNumber(n as string)}/attachments`,
          await readAttachment(file as string),
        );
        ctx.print(t, () => `Attached ${basename(file as string)} to #${t.id}.`);
      }),
    );

  tickets
    .command('assign')
    .description('give a ticket to an operator (the desk)')
    .argument('<number>', 'the ticket number')
    .argument('<username>', 'the operator')
    .action(
      act(async (ctx, _opts, n, who) => {
        const t = await ctx.api.post<Ticket>(`/tickets/${ticketNumber(n as string)}/assign`, {
          assignee: who,
        });
        ctx.print(t, () => `#${t.id} is assigned to ${t.assignee}.`);
      }),
    );

  tickets
    .command('move')
    .description('move a ticket to another status (the API says which are allowed)')
    .argument('<number>', 'the ticket number')
    .argument('<status>', TICKET_STATUSES.join(' | '))
    .option('--note <text>', 'why, shown on the timeline')
    .action(
      act<{ note?: string }>(async (ctx, opts, n, to) => {
        if (!(TICKET_STATUSES as readonly string[]).includes(to as string))
          throw usageError(`${JSON.stringify(to)} is not a status: ${TICKET_STATUSES.join(', ')}`);
        const t = await ctx.api.post<Ticket>(`/tickets/${ticketNumber(n as string)}/move`, {
          to,
          note: opts.note,
        });
        ctx.print(t, () => `#${t.id} is ${t.status}; next: ${t.nextStates.join(', ') || 'nothing'}.`);
      }),
    );

  tickets
    .command('link')
    .description('link a monitoring incident, or set the service (the desk)')
    .argument('<number>', 'the ticket number')
    .addOption(
      new Option('--incident <id>', 'an incident of the department').argParser(
        integer(1, Number.MAX_SAFE_INTEGER),
      ),
    )
    .option('--service <ref>', 'slug, or DEPT/slug')
    .action(
      act<{ incident?: number; service?: string }>(async (ctx, opts, n) => {
        if (opts.incident === undefined && opts.service === undefined)
          throw usageError('give --incident or --service');
        const t = await ctx.api.post<Ticket>(`/tickets/${ticketNumber(n as string)}/links`, {
          incident: opts.incident,
          service: opts.service,
        });
        ctx.print(
          t,
          () => `#${t.id}: service ${t.service ?? 'none'}, incidents ${t.incidents.join(', ') || 'none'}.`,
        );
      }),
    );

  const sla = tickets.command('sla').description('SLA targets by tier and priority');
  sla
    .command('list', { isDefault: true })
    .description('every target')
    .action(
      act(async (ctx) => {
        const targets = await ctx.api.get<Target[]>('/support/sla-targets');
        ctx.print(targets, () =>
          table(targets, [
            ['tier', (t) => t.tier],
            ['priority', (t) => t.priority],
            ['response min', (t) => t.responseMinutes],
            ['resolution min', (t) => t.resolutionMinutes],
            ['hours', (t) => t.hours],
            ['set by', (t) => t.updatedBy],
          ]),
        );
      }),
    );
  sla
    .command('set')
    .description('set the targets of one tier and priority (the desk)')
    .argument('<tier>', 'gold | silver | bronze')
    .argument('<priority>', 'P1 … P4')
    .addOption(
      new Option('--response <minutes>', 'first response within')
        .argParser(integer(1, 525_600))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--resolution <minutes>', 'resolution within')
        .argParser(integer(1, 525_600))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--hours <hours>', 'which minutes count')
        .choices(['24x7', 'business'])
        .makeOptionMandatory(),
    )
    .action(
      act<{ response: number; resolution: number; hours: string }>(async (ctx, opts, tier, priority) => {
        const t = await ctx.api.put<Target>(
          `/support/sla-targets/${encodeURIComponent(tier as string)}/${encodeURIComponent(priority as string)}`,
          { responseMinutes: opts.response, resolutionMinutes: opts.resolution, hours: opts.hours },
        );
        ctx.print(
          t,
          () =>
            `${t.tier} ${t.priority}: respond within ${t.responseMinutes} min, resolve within ${t.resolutionMinutes} min (${t.hours}).`,
        );
      }),
    );

  tickets
    .command('report')
    .description('response and resolution times and breaches of a month, by department and priority')
    .requiredOption(
      '--month <YYYY-MM>',
      "the calendar month the tickets were raised in (in the desk's time zone: Hong Kong by default)",
    )
    .option('--department <code>', 'only this department')
    .option('--csv', 'write CSV (RFC 4180) to standard output')
    .action(
      act<{ month: string; department?: string; csv?: boolean }>(async (ctx, opts) => {
        if (opts.csv && ctx.json) throw usageError('give --csv or --json, not both');
        const r = await ctx.api.get<SupportReport>('/support/reports/monthly', {
          month: opts.month,
          department: opts.department,
        });
        if (opts.csv) {
          // The server's writer, so the CLI's file and the API's export are the same.
          process.stdout.write(supportCsv(r));
          return;
        }
        ctx.print(r, () =>
          r.lines.length === 0
            ? `no tickets raised in ${r.month}`
            : table(r.lines, [
                ['department', (l) => l.department],
                ['pri', (l) => l.priority],
                ['tickets', (l) => l.tickets],
                ['responded', (l) => l.responded],
                ['median response min', (l) => l.responseMedianMinutes],
                ['response breaches', (l) => l.responseBreaches],
                ['resolved', (l) => l.resolved],
                ['median resolution min', (l) => l.resolutionMedianMinutes],
                ['resolution breaches', (l) => l.resolutionBreaches],
              ]),
        );
      }),
    );
}

/** A file as the attachment API takes it; too large is said here, before it is sent. */
async function readAttachment(file: string) {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (size > 512 * 1024) throw usageError(`${file} is ${size} bytes; attachments may be up to 512 KiB`);
  return { filename: basename(file), contentBase64: (await readFile(file)).toString('base64') };
}
