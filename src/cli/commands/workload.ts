import type { Command } from 'commander';
import {
  farmStateOn,
  MIGRATION_WAVES,
  type PaperFarm,
  type PaperWorkload,
  paperWorkload,
} from '../../provisioning/paper-workload.ts';
import type { ApiClient, Query } from '../client.ts';
import { act, type Ctx } from '../context.ts';
import { ApiError, CliError, usageError } from '../errors.ts';
import type { Page } from '../lists.ts';
import { redraw, table } from '../output.ts';

interface Tally {
  kind: string;
  total: number;
  created: number;
  existing: number;
  skipped: number;
  note?: string;
}

async function allPages<T>(api: ApiClient, path: string, query: Query = {}): Promise<T[]> {
  const items: T[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api.get<Page<T>>(path, { ...query, limit: 500, offset });
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) return items;
  }
}

/** Counts as they go, redrawn in place on a terminal; one line per kind otherwise. */
function progress(ctx: Ctx, tally: Tally, dryRun: boolean) {
  const tty = process.stderr.isTTY === true && !ctx.json;
  const line = () =>
    `${tally.kind}: ${tally.created + tally.existing + tally.skipped}/${tally.total} (${tally.created} ${dryRun ? 'to create' : 'created'}, ${tally.existing} already there${tally.skipped ? `, ${tally.skipped} skipped` : ''})`;
  return {
    step() {
      if (tty) redraw(line());
    },
    done() {
      if (tty) redraw(line(), '\n');
      else ctx.note(line());
      if (tally.note) ctx.note(`  ${tally.note}`);
    },
  };
}

/** POSTs unless it exists already (a 409 from a concurrent load counts as existing). */
async function create(api: ApiClient, path: string, body: unknown): Promise<'created' | 'existing'> {
  try {
    await api.post(path, body);
    return 'created';
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) return 'existing';
    throw err;
  }
}

const farmBody = (f: PaperFarm, asOf: string) => ({
  code: f.code,
  name: f.name,
  vcpu: f.vcpu,
  memoryMb: f.memoryMb,
  storageGb: f.storageGb,
  idleWatts: f.idleWatts,
  maxWatts: f.maxWatts,
  costHkd: f.costHkd,
  phase: f.phase,
  state: farmStateOn(f, asOf),
  orderedOn: f.orderedOn,
  activeFrom: f.activeFrom,
});

/**
 * The migration programme of the paper: its three waves with their dates, and an item
 * (inventoried) for each of the 118 EGIS services, in its wave with its planned go-live day and
 * its GovHost service as the target. An item is known by DEPT/EGIS-ref, so a second run skips it.
 */
async function loadMigration(ctx: Ctx, w: PaperWorkload, dryRun: boolean): Promise<Tally[]> {
  const waves: Tally = {
    kind: 'migration waves',
    total: MIGRATION_WAVES.length,
    created: 0,
    existing: 0,
    skipped: 0,
  };
  let bar = progress(ctx, waves, dryRun);
  const haveWaves = new Set(
    (await ctx.api.get<{ number: number }[]>('/migration/waves')).map((x) => x.number),
  );
  for (const wave of MIGRATION_WAVES) {
    if (haveWaves.has(wave.wave)) waves.existing++;
    else if (dryRun) waves.created++;
    else {
      await ctx.api.put(`/migration/waves/${wave.wave}`, {
        name: `Wave ${wave.wave}`,
        plannedStart: wave.from,
        plannedEnd: wave.to,
      });
      waves.created++;
    }
    bar.step();
  }
  bar.done();
  const migrated = w.services.filter((s) => s.origin === 'migrated' && s.egisRef);
  const items: Tally = {
    kind: 'migration items',
    total: migrated.length,
    created: 0,
    existing: 0,
    skipped: 0,
  };
  bar = progress(ctx, items, dryRun);
  const haveItems = new Set((await allPages<{ id: string }>(ctx.api, '/migration/items')).map((i) => i.id));
  for (const s of migrated) {
    if (haveItems.has(`${s.department}/${s.egisRef}`)) items.existing++;
    else if (dryRun) items.created++;
    else {
      items[
        await create(ctx.api, '/migration/items', {
          department: s.department,
          ref: s.egisRef,
          name: s.nameEn,
          sourcePlatform: 'EGIS',
          targetService: s.slug,
          wave: s.wave,
          plannedOn: s.goLive,
        })
      ]++;
    }
    bar.step();
  }
  bar.done();
  return [waves, items];
}

/** `govhost workload load-paper`: the 2011 paper's workload, loaded through the API. */
export function registerWorkloadCommands(program: Command): void {
  const workload = program.command('workload').description('load reference workloads into a platform');

  workload
    .command('load-paper')
    .description(
      "load the 2011 paper's workload (illustrative names): 20 departments, 118 migrated and 100 new services, 22 farms; what exists is left alone",
    )
    .option('--dry-run', 'read what exists and say what would be created, change nothing')
    .option(
      '--as-of <date>',
      "farms' states on this day from their planned dates (default today: all active; 2011-04-15: all planned)",
    )
    .action(
      act<{ dryRun?: boolean; asOf?: string }>(async (ctx, opts) => {
        const asOf = opts.asOf ?? new Date().toISOString().slice(0, 10);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`))) {
          throw usageError(`--as-of must be a date written YYYY-MM-DD, got ${JSON.stringify(asOf)}`);
        }
        const dryRun = opts.dryRun === true;
        const me = await ctx.api.get<{ username: string; role: string }>('/me');
        if (me.role !== 'platform-admin') {
          throw new CliError(
            `load-paper creates departments, which only a platform administrator may do; ${me.username} is ${me.role}`,
          );
        }
        const w = paperWorkload();
        const tallies: Tally[] = [];

        // Departments.
        const depts: Tally = {
          kind: 'departments',
          total: w.departments.length,
          created: 0,
          existing: 0,
          skipped: 0,
        };
        tallies.push(depts);
        const haveDepts = new Set(
          (await allPages<{ code: string }>(ctx.api, '/departments')).map((d) => d.code.toUpperCase()),
        );
        let bar = progress(ctx, depts, dryRun);
        for (const d of w.departments) {
          if (haveDepts.has(d.code)) depts.existing++;
          else if (dryRun) depts.created++;
          else depts[await create(ctx.api, '/departments', d)]++;
          bar.step();
        }
        bar.done();

        // Farms, through the capacity inventory's API.
        const farms: Tally = { kind: 'farms', total: w.farms.length, created: 0, existing: 0, skipped: 0 };
        tallies.push(farms);
        bar = progress(ctx, farms, dryRun);
        let haveFarms: Set<string> | null = null;
        try {
          const listed = await ctx.api.get<Page<{ code: string }> | { code: string }[]>('/farms', {
            limit: 500,
          });
          haveFarms = new Set((Array.isArray(listed) ? listed : listed.items).map((f) => f.code));
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 404)) throw err;
          farms.skipped = w.farms.length;
          farms.note = 'this platform has no farms API (GET /api/v1/farms is 404): farms not loaded';
        }
        if (haveFarms) {
          for (const f of w.farms) {
            if (haveFarms.has(f.code)) farms.existing++;
            else if (dryRun) farms.created++;
            else farms[await create(ctx.api, '/farms', farmBody(f, asOf))]++;
            bar.step();
          }
        }
        bar.done();

        // Services: registered (planned, no code deployed), department by department.
        const svcs: Tally = {
          kind: 'services',
          total: w.services.length,
          created: 0,
          existing: 0,
          skipped: 0,
        };
        tallies.push(svcs);
        bar = progress(ctx, svcs, dryRun);
        const byDept = new Map<string, Set<string>>();
        for (const s of w.services) {
          let have = byDept.get(s.department);
          if (!have) {
            have = haveDepts.has(s.department)
              ? new Set(
                  (await allPages<{ slug: string }>(ctx.api, '/services', { department: s.department })).map(
                    (x) => x.slug,
                  ),
                )
              : new Set();
            byDept.set(s.department, have);
          }
          if (have.has(s.slug)) svcs.existing++;
          else if (dryRun) svcs.created++;
          else {
            svcs[
              await create(ctx.api, '/services', {
                department: s.department,
                slug: s.slug,
                nameEn: s.nameEn,
                nameZh: s.nameZh,
                description: s.description,
                origin: s.origin,
                ...(s.egisRef ? { egisRef: s.egisRef } : {}),
                channels: s.channels,
                personalised: s.personalised,
                slaTier: s.slaTier,
              })
            ]++;
          }
          bar.step();
        }
        bar.done();

        tallies.push(...(await loadMigration(ctx, w, dryRun)));

        // Planned demand: each service's expected size from its go-live month, so the forecast
        // shows the platform the paper planned. One line per department, kind, month and size.
        const lines = new Map<string, { body: Record<string, unknown>; services: number }>();
        for (const s of w.services) {
          const month = s.goLive.slice(0, 7);
          const kind = s.origin === 'migrated' ? 'migration-wave' : 'hosting-request';
          const key = `paper:${s.department}:${kind}:${month}:${s.instances}x${s.memoryMb}x${s.cpu}`;
          const line = lines.get(key) ?? {
            services: 0,
            body: {
              kind,
              department: s.department,
              instancesPerService: s.instances,
              memoryMbPerInstance: s.memoryMb,
              cpuPerInstance: s.cpu,
              goLive: month,
              slaTier: s.slaTier,
            },
          };
          line.services++;
          lines.set(key, line);
        }
        const demand: Tally = {
          kind: 'planned demand',
          total: lines.size,
          created: 0,
          existing: 0,
          skipped: 0,
        };
        tallies.push(demand);
        bar = progress(ctx, demand, dryRun);
        const haveLines = new Set(
          (await allPages<{ note: string }>(ctx.api, '/capacity/demand')).map((d) => d.note.split(' ')[0]),
        );
        for (const [key, line] of lines) {
          if (haveLines.has(key)) demand.existing++;
          else if (dryRun) demand.created++;
          else {
            // The note starts with the key: a second run finds the line and skips it.
            await ctx.api.post('/capacity/demand', {
              ...line.body,
              services: line.services,
              note: `${key} (the paper's workload, illustrative sizes)`,
            });
            demand.created++;
          }
          bar.step();
        }
        bar.done();

        const changed = tallies.reduce((n, t) => n + t.created, 0);
        ctx.print({ dryRun, asOf, tallies }, () => {
          const summary = table(tallies, [
            ['kind', (t) => t.kind],
            ['in the paper', (t) => t.total],
            [dryRun ? 'to create' : 'created', (t) => t.created],
            ['already there', (t) => t.existing],
            ['skipped', (t) => t.skipped],
          ]);
          const verdict =
            changed === 0
              ? dryRun
                ? 'Nothing to do: the workload is loaded already.'
                : 'Nothing changed: the workload was loaded already.'
              : dryRun
                ? `Dry run: ${changed} items would be created; nothing was changed.`
                : `Loaded ${changed} items. Names are illustrative; counts and dates follow the paper (docs/workload-paper.md).`;
          return `${summary}\n${verdict}`;
        });
      }),
    );
}
