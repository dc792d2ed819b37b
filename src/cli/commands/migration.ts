import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { ITEM_STATES } from '../../migration/migration.tables.ts';
import type { ApiClient } from '../client.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { integer, patchOf } from '../options.ts';
import { record, table, when } from '../output.ts';
import { resolveRef } from './services.ts';

interface Item {
  id: string;
  name: string;
  sourcePlatform: string;
  legacyUrl: string | null;
  contacts: string[];
  technology: string | null;
  dataSizeGb: number | null;
  complexity: string | null;
  targetService: string | null;
  wave: number | null;
  plannedOn: string | null;
  state: string;
  blockedReason: string | null;
  nextStates: string[];
  dependsOn: { item: string; state: string }[];
  steps?: { from: string | null; to: string; reason: string | null; by: string; at: string }[];
}
interface Wave {
  number: number;
  name: string;
  plannedStart: string;
  plannedEnd: string;
  items: number;
  byState: Record<string, number>;
}
interface Month {
  month: string;
  plannedRemaining: number;
  actualRemaining: number | null;
}
interface Curve {
  total: number;
  remaining: number;
  months: Month[];
}
interface Burndown {
  asOf: string;
  byState: Record<string, number>;
  overall: Curve;
  waves: (Curve & { number: number; name: string; plannedStart: string; plannedEnd: string })[];
  departments: {
    department: string;
    items: number;
    remaining: number;
    plannedLastMonth: string | null;
    actualLastMonth: string | null;
  }[];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const stateOf = (i: Item) => (i.blockedReason ? `${i.state}: ${i.blockedReason}` : i.state);

/** `DEPT/ref`, or `ref` in the caller's own department, as the API's path. */
async function itemPath(api: ApiClient, ref: string) {
  const { name } = await resolveRef(api, ref);
  const [dept = '', id = ''] = name.split('/');
  return { name, path: `/migration/items/${encodeURIComponent(dept)}/${encodeURIComponent(id)}` };
}

const byState = (counts: Record<string, number>) =>
  ITEM_STATES.filter((s) => counts[s])
    .map((s) => `${s} ${counts[s]}`)
    .join(', ') || 'none';

/**
 * `govhost migration …`: the legacy inventory, waves, states and burndown. Returns the group so
 * that the router cut-over's commands (`migration shift`, `migration back`) are added beside these.
 */
export function registerMigrationCommands(program: Command): Command {
  const migration = program
    .command('migration')
    .description('the migration programme: legacy inventory, waves, item states, burndown');

  withPaging(
    migration
      .command('items', { isDefault: true })
      .description('migration items you may see (operators: every department)'),
  )
    .option('--department <code>', 'only this department')
    .addOption(new Option('--wave <n>', 'only this wave').argParser(integer(1, 999)))
    .addOption(new Option('--state <state>', 'only items in this state').choices(ITEM_STATES))
    .action(
      act<PageOptions & { department?: string; wave?: number; state?: string }>(async (ctx, opts) => {
        const page = await fetchPage<Item>(
          ctx.api,
          '/migration/items',
          { department: opts.department, wave: opts.wave, state: opts.state },
          opts,
        );
        printPage(ctx, page, 'migration items', [
          ['item', (i) => i.id],
          ['name', (i) => i.name],
          ['wave', (i) => i.wave],
          ['planned', (i) => i.plannedOn],
          ['state', stateOf],
          ['target', (i) => i.targetService],
        ]);
      }),
    );

  migration
    .command('show')
    .description('one item: its details, dependencies and every step it took')
    .argument('<item>', 'DEPT/ref, or ref in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const { path } = await itemPath(ctx.api, ref as string);
        const i = await ctx.api.get<Item>(path);
        ctx.print(i, () =>
          [
            record([
              ['item', i.id],
              ['name', i.name],
              ['state', stateOf(i)],
              ['may move to', i.nextStates.join(', ') || 'nothing (the end)'],
              ['from', `${i.sourcePlatform}${i.legacyUrl ? ` ${i.legacyUrl}` : ''}`],
              ['to', i.targetService],
              ['wave', i.wave],
              ['planned', i.plannedOn],
              ['complexity', i.complexity ?? 'not assessed'],
              ['technology', i.technology],
              ['data', i.dataSizeGb === null ? null : `${i.dataSizeGb} GB`],
              ['contacts', i.contacts.join('; ') || null],
              ['depends on', i.dependsOn.map((d) => `${d.item} (${d.state})`).join(', ') || null],
            ]),
            '',
            table(i.steps ?? [], [
              ['when', (s) => when(s.at)],
              ['step', (s) => `${s.from ?? '—'} → ${s.to}`],
              ['by', (s) => s.by],
              ['reason', (s) => s.reason],
            ]),
          ].join('\n'),
        );
      }),
    );

  migration
    .command('import')
    .description('import an inventory from a CSV file, all or nothing (columns: docs/migration.md)')
    .argument('<file>', 'CSV with a header line; - reads standard input')
    .action(
      act(async (ctx, _opts, file) => {
        let csv: string;
        try {
          csv = file === '-' ? await readStdin() : await readFile(file as string, 'utf8');
        } catch (err) {
          throw usageError(`cannot read ${file}: ${(err as Error).message}`);
        }
        const r = await ctx.api.post<{ imported: number; items: string[] }>('/migration/items/import', {
          csv,
        });
        ctx.print(r, () => `Imported ${r.imported} items: ${r.items.join(', ')}`);
      }),
    );

  migration
    .command('move')
    .description('move an item to its next state (the API says which states are allowed)')
    .argument('<item>', 'DEPT/ref, or ref in your department')
    .argument('<state>', ITEM_STATES.join(' | '))
    .option('--reason <text>', 'why (required to block an item)')
    .action(
      act<{ reason?: string }>(async (ctx, opts, ref, to) => {
        if (!(ITEM_STATES as readonly string[]).includes(to as string))
          throw usageError(`${JSON.stringify(to)} is not a state: ${ITEM_STATES.join(', ')}`);
        const { path } = await itemPath(ctx.api, ref as string);
        const i = await ctx.api.post<Item>(`${path}/move`, { to, reason: opts.reason });
        ctx.print(
          i,
          () => `${i.id} is ${stateOf(i)}; next: ${i.nextStates.join(', ') || 'nothing (the end)'}.`,
        );
      }),
    );

  migration
    .command('set')
    .description("change an item's details, wave or planned day (its state moves with `migration move`)")
    .argument('<item>', 'DEPT/ref, or ref in your department')
    .option('--name <name>', 'what the service is called')
    .option('--complexity <level>', 'low, medium or high (needed to assess it)')
    .option('--wave <n>', 'its wave number', integer(1, 999))
    .option('--planned-on <day>', 'planned cut-over day, YYYY-MM-DD (inside its wave)')
    .option('--target <slug>', 'the GovHost service it becomes, in its department')
    .option('--legacy-url <url>', "the legacy service's base URL")
    .option('--technology <text>', 'what it is built with')
    .option('--data-gb <n>', 'data to move, in GB', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw usageError('--data-gb must be a number of GB, 0 or more');
      return n;
    })
    .option('--contacts <list>', 'who to ask, separated by ;', (v: string) =>
      v
        .split(';')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .option('--depends-on <list>', 'items it depends on, separated by ,', (v: string) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .action(
      act<{
        name?: string;
        complexity?: string;
        wave?: number;
        plannedOn?: string;
        target?: string;
        legacyUrl?: string;
        technology?: string;
        dataGb?: number;
        contacts?: string[];
        dependsOn?: string[];
      }>(async (ctx, opts, ref) => {
        const { path } = await itemPath(ctx.api, ref as string);
        const body = patchOf(
          {
            name: opts.name,
            complexity: opts.complexity,
            wave: opts.wave,
            plannedOn: opts.plannedOn,
            targetService: opts.target,
            legacyUrl: opts.legacyUrl,
            technology: opts.technology,
            dataSizeGb: opts.dataGb,
            contacts: opts.contacts,
            dependsOn: opts.dependsOn,
          },
          '--name, --complexity, --wave, --planned-on, --target, --legacy-url, --technology, --data-gb, --contacts or --depends-on',
        );
        const i = await ctx.api.patch<Item>(path, body);
        ctx.print(i, () => `${i.id} is changed (${stateOf(i)}).`);
      }),
    );

  const waves = migration.command('waves').description("the programme's waves and their planned dates");
  waves
    .command('list', { isDefault: true })
    .description('every wave, with your items in it by state')
    .action(
      act(async (ctx) => {
        const list = await ctx.api.get<Wave[]>('/migration/waves');
        ctx.print(list, () =>
          list.length === 0
            ? 'no waves'
            : table(list, [
                ['wave', (w) => w.number],
                ['name', (w) => w.name],
                ['planned', (w) => `${w.plannedStart} to ${w.plannedEnd}`],
                ['items', (w) => w.items],
                ['by state', (w) => byState(w.byState)],
              ]),
        );
      }),
    );
  waves
    .command('set')
    .description('create a wave or change its name and dates (operators)')
    .argument('<number>', 'the wave number', integer(1, 999))
    .requiredOption('--name <name>', 'e.g. "Wave 1"')
    .requiredOption('--start <day>', 'planned start, YYYY-MM-DD')
    .requiredOption('--end <day>', 'planned end, YYYY-MM-DD')
    .action(
      act<{ name: string; start: string; end: string }>(async (ctx, opts, number) => {
        const w = await ctx.api.put<Wave>(`/migration/waves/${number}`, {
          name: opts.name,
          plannedStart: opts.start,
          plannedEnd: opts.end,
        });
        ctx.print(w, () => `Wave ${w.number} (${w.name}): ${w.plannedStart} to ${w.plannedEnd}.`);
      }),
    );

  migration
    .command('burndown')
    .description(
      'items left on the legacy platform by month, planned against actual; when each department leaves',
    )
    .option('--department <code>', 'only this department (operators)')
    .addOption(
      new Option('--wave <n>', "this wave's months instead of the whole programme's").argParser(
        integer(1, 999),
      ),
    )
    .action(
      act<{ department?: string; wave?: number }>(async (ctx, opts) => {
        const b = await ctx.api.get<Burndown>('/migration/burndown', { department: opts.department });
        const curve = opts.wave === undefined ? b.overall : b.waves.find((w) => w.number === opts.wave);
        if (!curve) throw usageError(`there is no wave ${opts.wave}`);
        ctx.print(b, () =>
          [
            `${opts.wave === undefined ? 'The programme' : `Wave ${opts.wave}`}: ${curve.total} items, ${curve.remaining} still on the legacy platform; actual figures to ${b.asOf}. By state (all waves): ${byState(b.byState)}.`,
            '',
            table(b.waves, [
              ['wave', (w) => w.number],
              ['planned', (w) => `${w.plannedStart} to ${w.plannedEnd}`],
              ['items', (w) => w.total],
              ['left legacy', (w) => w.total - w.remaining],
            ]),
            '',
            table(curve.months, [
              ['month', (m) => m.month],
              ['planned remaining', (m) => m.plannedRemaining],
              ['actual remaining', (m) => m.actualRemaining ?? '—'],
            ]),
            '',
            table(b.departments, [
              ['department', (d) => d.department],
              ['items', (d) => d.items],
              ['remaining', (d) => d.remaining],
              ['last planned to leave', (d) => d.plannedLastMonth ?? 'not planned'],
              ['last left', (d) => d.actualLastMonth ?? '—'],
            ]),
          ].join('\n'),
        );
      }),
    );

  return migration;
}
