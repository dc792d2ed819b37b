import { type Command, InvalidArgumentError, Option } from 'commander';
import type { PlannedDemand } from '../../capacity/demand.logic.ts';
import type { EnergyReport } from '../../capacity/energy.logic.ts';
import type { CapacityForecast } from '../../capacity/forecast.logic.ts';
import { isMonth } from '../../capacity/month.ts';
import type { SharingReport } from '../../capacity/sharing.logic.ts';
import { act } from '../context.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { integer } from '../options.ts';
import { record, table } from '../output.ts';

const month = (raw: string): string => {
  if (!isMonth(raw)) throw new InvalidArgumentError('must be a month, YYYY-MM, e.g. 2026-12');
  return raw;
};

const number =
  (min: number, max: number) =>
  (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a number from ${min} to ${max}`);
    }
    return n;
  };

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? null : `${(v * 100).toFixed(1)} %`;
const gb = (mb: number) => `${(mb / 1024).toFixed(1)} GB`;
const hkd = (v: number | null) => (v === null ? null : `HK$${(v / 1_000_000).toFixed(1)}M`);

function sharingText(r: SharingReport): string {
  if (r.farms.length === 0)
    return 'no active farms and no reservations: register farms first (govhost farms)';
  const farms = table(r.farms, [
    ['farm', (f) => f.code],
    ['state', (f) => f.state],
    ['services', (f) => f.services],
    ['instances', (f) => f.instances],
    ['cpu reserved', (f) => `${f.reserved.cpu}/${f.capacity.vcpu} (${pct(f.reservedShare.cpu)})`],
    [
      'memory reserved',
      (f) => `${gb(f.reserved.memoryMb)}/${gb(f.capacity.memoryMb)} (${pct(f.reservedShare.memory)})`,
    ],
    ['cpu used', (f) => (f.measured.servicesMeasured ? f.measured.cpu : null)],
    ['memory used', (f) => (f.measured.servicesMeasured ? gb(f.measured.memoryMb) : null)],
  ]);
  const depts =
    r.departments.length === 0
      ? 'no reservations yet'
      : table(r.departments, [
          ['department', (d) => d.department],
          ['services', (d) => d.services],
          ['instances', (d) => d.instances],
          ['cpu', (d) => d.reserved.cpu],
          ['memory', (d) => gb(d.reserved.memoryMb)],
          ['farms alone', (d) => d.farmsAlone],
        ]);
  const s = r.standalone;
  const t = r.totals;
  const summary = record([
    ['services', `${t.services} on ${t.activeFarms} active farms (${t.servicesPerActiveFarm ?? '-'} a farm)`],
    [
      'reserved',
      `CPU ${pct(t.reservedShare.cpu) ?? '-'}, memory ${pct(t.reservedShare.memory) ?? '-'} of active capacity`,
    ],
    [
      'reference farm',
      s.referenceFarm
        ? `${s.referenceFarm.code}: ${s.referenceFarm.vcpu} vCPU, ${gb(s.referenceFarm.memoryMb)}`
        : null,
    ],
    ['farms if alone', s.farmsIfAlone],
    ['farms shared', s.farmsShared],
    ['farms avoided', s.farmsAvoided],
    ['cost avoided', s.costAvoidedHkd === null ? null : `${hkd(s.costAvoidedHkd)} (${s.costBasis})`],
  ]);
  return `${farms}\n\n${depts}\n\n${summary}`;
}

function energyText(r: EnergyReport): string {
  if (r.farms.length === 0) return `no farms in service in ${r.month}`;
  const farms = table(r.farms, [
    ['farm', (f) => f.code],
    ['hours', (f) => f.hours],
    ['basis', (f) => f.basis],
    ['cpu', (f) => `${f.cpu}/${f.vcpu}`],
    ['utilisation', (f) => pct(f.utilisation)],
    ['watts', (f) => f.watts],
    ['kWh', (f) => f.kWh],
    ['top service', (f) => (f.services[0] ? `${f.services[0].service} ${f.services[0].kWh} kWh` : null)],
  ]);
  const partial = r.partial ? ` (${r.month} is not over: up to now)` : '';
  return `${farms}\n\n${r.totals.kWh} kWh in ${r.month} on ${r.totals.farms} farms, ${r.totals.unallocatedKWh} kWh on idle farms${partial}`;
}

/** `govhost capacity ...`: the central team's capacity reports and the demand pipeline. */
export function registerCapacityReportCommands(program: Command): void {
  const capacity = program
    .command('capacity')
    .description('capacity reports (operators, finance): sharing, forecast, energy; the demand pipeline');

  capacity
    .command('report')
    .description('sharing report: services per farm, reserved against used, farms avoided by sharing')
    .addOption(
      new Option('--hours <n>', 'hours of measurements to average (default 24)').argParser(integer(1, 744)),
    )
    .option('--energy', 'also the energy of a month (with --month, default this month)')
    .addOption(new Option('--month <YYYY-MM>', 'month of the energy report').argParser(month))
    .action(
      act<{ hours?: number; energy?: boolean; month?: string }>(async (ctx, opts) => {
        const r = await ctx.api.get<SharingReport>('/capacity/sharing', { hours: opts.hours });
        if (!opts.energy) {
          ctx.print(r, () => sharingText(r));
          return;
        }
        const e = await ctx.api.get<EnergyReport>('/capacity/energy', {
          month: opts.month ?? new Date().toISOString().slice(0, 7),
        });
        ctx.print({ sharing: r, energy: e }, () => `${sharingText(r)}\n\n${energyText(e)}`);
      }),
    );

  capacity
    .command('energy')
    .description("estimated energy per farm in a month, and each service's share")
    .addOption(new Option('--month <YYYY-MM>', 'the month (default: this month)').argParser(month))
    .action(
      act<{ month?: string }>(async (ctx, opts) => {
        const r = await ctx.api.get<EnergyReport>('/capacity/energy', {
          month: opts.month ?? new Date().toISOString().slice(0, 7),
        });
        ctx.print(r, () => energyText(r));
      }),
    );

  capacity
    .command('forecast')
    .description('demand against capacity month by month, when it runs out, when to order the next farms')
    .addOption(new Option('--months <n>', 'months to forecast (default 36)').argParser(integer(1, 120)))
    .addOption(
      new Option('--target <percent>', 'utilisation not to pass, 5-100 % (default 80)').argParser(
        number(5, 100),
      ),
    )
    .addOption(
      new Option('--lead <months>', 'months from order to service (default 3)').argParser(integer(0, 60)),
    )
    .addOption(new Option('--from <YYYY-MM>', 'first month (default: this month)').argParser(month))
    .option('--scenario <name>', "add this what-if scenario's lines to the baseline")
    .action(
      act<{ months?: number; target?: number; lead?: number; from?: string; scenario?: string }>(
        async (ctx, opts) => {
          const f = await ctx.api.get<CapacityForecast>('/capacity/forecast', {
            months: opts.months,
            target: opts.target === undefined ? undefined : opts.target / 100,
            leadMonths: opts.lead,
            from: opts.from,
            scenario: opts.scenario,
          });
          ctx.print(f, () => {
            const rows = table(f.series, [
              ['month', (m) => m.month],
              ['cpu %', (m) => pct(m.cpu.utilisation)],
              ['memory %', (m) => pct(m.memory.utilisation)],
              ['storage %', (m) => pct(m.storage.utilisation)],
              ['farms', (m) => m.farmsActive],
              [
                'with advice',
                (m) => `${m.withRecommended.farms} (${pct(m.withRecommended.memoryUtilisation) ?? '-'} mem)`,
              ],
              ['action', (m) => m.actions.join('; ') || null],
            ]);
            const out = (r: string | null) => r ?? `not within ${f.months} months`;
            const advice = !f.referenceFarm
              ? ''
              : f.recommendations.length
                ? f.recommendations
                    .map(
                      (r) =>
                        `new farm ${r.farm}: order by ${r.orderBy}${r.late ? ' (late: order now)' : ''}, in service by ${r.commissionBy} (${r.resource} passes ${Math.round(f.target * 100)} % in ${r.neededFor})`,
                    )
                    .join('\n')
                : 'no new farm needed';
            const ref = f.referenceFarm
              ? `reference farm ${f.referenceFarm.code}: ${f.referenceFarm.vcpu} vCPU, ${gb(f.referenceFarm.memoryMb)}, ${f.referenceFarm.storageGb} GB storage`
              : 'no active farm to copy: no advice on new farms';
            return `${rows}\n\nCPU runs out: ${out(f.runsOut.cpu)}; memory runs out: ${out(f.runsOut.memory)}; storage runs out: ${out(f.runsOut.storage)} (target ${Math.round(f.target * 100)} %${f.scenario ? `, scenario ${f.scenario}` : ''})\n${ref}${advice ? `\n${advice}` : ''}`;
          });
        },
      ),
    );

  const demand = capacity
    .command('demand')
    .description('the demand pipeline: hosting requests, migration waves, growth');

  withPaging(demand.command('list').description('lines of the demand pipeline'))
    .option('--scenario <name>', 'only this what-if scenario')
    .addOption(
      new Option('--kind <kind>', 'only this kind').choices(['hosting-request', 'migration-wave', 'growth']),
    )
    .option('--department <code>', 'only this department')
    .action(
      act<PageOptions & { scenario?: string; kind?: string; department?: string }>(async (ctx, opts) => {
        const page = await fetchPage<PlannedDemand>(
          ctx.api,
          '/capacity/demand',
          { scenario: opts.scenario, kind: opts.kind, department: opts.department },
          opts,
        );
        printPage(ctx, page, 'planned demand', [
          ['id', (d) => d.id],
          ['go-live', (d) => d.goLive],
          ['kind', (d) => d.kind],
          ['department', (d) => d.department ?? 'all'],
          [
            'demand',
            (d) =>
              d.kind === 'growth'
                ? `+${d.growthPctPerMonth} %/month`
                : `${d.services} × ${d.instancesPerService} × (${d.memoryMbPerInstance} MB, ${d.cpuPerInstance} CPU${d.storageMbPerInstance ? `, ${d.storageMbPerInstance} MB disk` : ''})`,
          ],
          ['scenario', (d) => d.scenario ?? 'baseline'],
          ['note', (d) => d.note || null],
        ]);
      }),
    );

  demand
    .command('add')
    .description('add a line (operators); with --scenario it is a what-if, left out of the baseline')
    .addOption(
      new Option('--kind <kind>', 'what brings the demand')
        .choices(['hosting-request', 'migration-wave', 'growth'])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--go-live <YYYY-MM>', 'month it counts from').argParser(month).makeOptionMandatory(),
    )
    .option('--department <code>', 'the department (none: platform-wide)')
    .addOption(new Option('--services <n>', 'number of services (default 1)').argParser(integer(1, 10_000)))
    .addOption(new Option('--instances <n>', 'instances per service (default 1)').argParser(integer(1, 1000)))
    .addOption(new Option('--memory <MB>', 'memory per instance, MB').argParser(integer(1, 16 * 1024 * 1024)))
    .addOption(new Option('--cpu <share>', 'CPU per instance, e.g. 0.5').argParser(number(0.001, 1024)))
    .addOption(
      new Option('--storage <MB>', 'disk per instance, MB').argParser(integer(0, 1024 * 1024 * 1024)),
    )
    .addOption(
      new Option('--growth <percent>', 'growth lines: % a month, compounded').argParser(number(-100, 1000)),
    )
    .option('--scenario <name>', 'what-if scenario name')
    .option('--note <text>', 'a note')
    .action(
      act<{
        kind: string;
        goLive: string;
        department?: string;
        services?: number;
        instances?: number;
        memory?: number;
        cpu?: number;
        storage?: number;
        growth?: number;
        scenario?: string;
        note?: string;
      }>(async (ctx, o) => {
        const d = await ctx.api.post<PlannedDemand>('/capacity/demand', {
          kind: o.kind,
          goLive: o.goLive,
          department: o.department,
          services: o.services,
          instancesPerService: o.instances,
          memoryMbPerInstance: o.memory,
          cpuPerInstance: o.cpu,
          storageMbPerInstance: o.storage,
          growthPctPerMonth: o.growth,
          scenario: o.scenario,
          note: o.note,
        });
        ctx.print(d, () =>
          record([
            ['id', d.id],
            ['kind', d.kind],
            ['go-live', d.goLive],
            ['department', d.department ?? 'all'],
            [
              'adds',
              d.kind === 'growth'
                ? `${d.growthPctPerMonth} % a month`
                : `${gb(d.totalMemoryMb)}, ${d.totalCpu} CPU, ${gb(d.totalStorageMb)} disk`,
            ],
            ['scenario', d.scenario ?? 'baseline'],
          ]),
        );
      }),
    );

  demand
    .command('remove <id>')
    .description('remove a line (operators)')
    .action(
      act<object>(async (ctx, _opts, id) => {
        await ctx.api.delete(`/capacity/demand/${encodeURIComponent(id ?? '')}`);
        ctx.print({ removed: id }, () => `removed ${id}`);
      }),
    );
}
