import { type Command, InvalidArgumentError, Option } from 'commander';
import { act } from '../context.ts';
import { integer, patchOf } from '../options.ts';
import { record, table } from '../output.ts';

interface Farm {
  code: string;
  name: string;
  state: string;
  phase: number;
  isLocal: boolean;
  capacity: { vcpu: number; memoryMb: number; storageGb: number };
  overcommit: { cpu: number; memory: number };
  reservable: { cpu: number; memoryMb: number };
  reserved: { instances: number; services: number; cpu: number; memoryMb: number; storageMb: number };
  used: { cpu: number; memoryMb: number; measuredServices: number } | null;
  suggestedOvercommit: { cpu: number; memory: number; basis: string } | null;
  idleWatts: number;
  maxWatts: number;
  costHkd: number;
  orderedOn: string | null;
  activeFrom: string | null;
  retiredOn: string | null;
}

interface Quota {
  department: string;
  limits: { memoryMb: number; instances: number; services: number };
  isDefault: boolean;
  usage: { services: number; instances: number; memoryMb: number };
}

const UNITS: Record<string, number> = { M: 1, G: 1024, T: 1024 * 1024 };

/** `512G`, `64G`, `1T`, `2048M` (or plain MiB) to MiB. */
export function sizeMb(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([MGT])?B?$/i.exec(raw.trim());
  if (!m) throw new InvalidArgumentError('must be a size such as 512G, 1T or 2048M');
  return Math.round(Number(m[1]) * (UNITS[(m[2] ?? 'M').toUpperCase()] ?? 1));
}

/** Storage in GiB: `10T`, `500G`. */
const sizeGb = (raw: string) => Math.round(sizeMb(/^\d+(\.\d+)?$/.test(raw.trim()) ? `${raw}G` : raw) / 1024);

function positive(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('must be a number > 0');
  return n;
}
function nonNegative(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}
function day(raw: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) throw new InvalidArgumentError('must be a date YYYY-MM-DD');
  return raw;
}
const STATES = ['planned', 'ordered', 'active', 'retired'];

/** CPUs as people read them: at most three decimals, no binary-float tail (0.026, not 0.026000000000000002). */
export const cpuAmount = (n: number): string => String(Number(n.toFixed(3)));

const gb = (mb: number) =>
  mb >= 1024 * 1024 ? `${(mb / 1024 / 1024).toFixed(1)}T` : `${Math.round(mb / 1024)}G`;
const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : '-');

const showFarm = (f: Farm) =>
  record([
    ['farm', `${f.code}${f.isLocal ? ' (this host)' : ''}`],
    ['name', f.name],
    ['state', f.state],
    ['phase', f.phase],
    [
      'capacity',
      `${f.capacity.vcpu} vCPU, ${gb(f.capacity.memoryMb)} memory, ${f.capacity.storageGb} GB storage`,
    ],
    ['overcommit', `CPU ×${f.overcommit.cpu}, memory ×${f.overcommit.memory}`],
    [
      'reserved',
      `${f.reserved.instances} instances of ${f.reserved.services} services: ${cpuAmount(f.reserved.cpu)} CPU (${pct(f.reserved.cpu, f.reservable.cpu)}), ${gb(f.reserved.memoryMb)} (${pct(f.reserved.memoryMb, f.reservable.memoryMb)}), ${gb(f.reserved.storageMb)} storage (${pct(f.reserved.storageMb, f.capacity.storageGb * 1024)})`,
    ],
    [
      'used (last hour)',
      f.used
        ? `${cpuAmount(f.used.cpu)} CPU, ${gb(f.used.memoryMb)} (${f.used.measuredServices} services measured)`
        : 'no measurements',
    ],
    [
      'suggested overcommit',
      f.suggestedOvercommit
        ? `CPU ×${f.suggestedOvercommit.cpu}, memory ×${f.suggestedOvercommit.memory} — ${f.suggestedOvercommit.basis}`
        : null,
    ],
    ['watts', `${f.idleWatts} idle, ${f.maxWatts} max`],
    ['cost', `HK$${f.costHkd.toLocaleString('en')}`],
    ['ordered on', f.orderedOn],
    ['active from', f.activeFrom],
    ['retired on', f.retiredOn],
  ]);

const showQuota = (q: Quota) =>
  table(
    [
      ['services', q.usage.services, q.limits.services],
      ['instances', q.usage.instances, q.limits.instances],
      ['memory', `${q.usage.memoryMb}M`, `${q.limits.memoryMb}M`],
    ] as [string, unknown, unknown][],
    [
      ['', (r) => r[0]],
      ['used', (r) => r[1]],
      [`quota${q.isDefault ? ' (default)' : ''}`, (r) => r[2]],
    ],
  );

interface FarmOptions {
  name?: string;
  vcpu?: number;
  memory?: number;
  storage?: number;
  idleWatts?: number;
  maxWatts?: number;
  cost?: number;
  phase?: number;
  state?: string;
  orderedOn?: string;
  activeFrom?: string;
  retiredOn?: string;
  overcommitCpu?: number;
  overcommitMemory?: number;
}

const farmFields = (o: FarmOptions) => ({
  name: o.name,
  vcpu: o.vcpu,
  memoryMb: o.memory,
  storageGb: o.storage,
  idleWatts: o.idleWatts,
  maxWatts: o.maxWatts,
  costHkd: o.cost,
  phase: o.phase,
  state: o.state,
  orderedOn: o.orderedOn,
  activeFrom: o.activeFrom,
  retiredOn: o.retiredOn,
  cpuOvercommit: o.overcommitCpu,
  memoryOvercommit: o.overcommitMemory,
});

const farmOptions = (cmd: Command, required: boolean) => {
  const opt = (flags: string, desc: string, parse: (raw: string) => unknown) => {
    const o = new Option(flags, desc).argParser(parse);
    return cmd.addOption(
      required && /^--(vcpu|memory|storage|idle-watts|max-watts) /.test(flags) ? o.makeOptionMandatory() : o,
    );
  };
  cmd.option('--name <name>', 'descriptive name');
  opt('--vcpu <n>', 'virtual CPUs', positive);
  opt('--memory <size>', 'memory, e.g. 512G or 1T', sizeMb);
  opt('--storage <size>', 'storage, e.g. 10T or 500G', sizeGb);
  opt('--idle-watts <w>', 'power drawn at idle', nonNegative);
  opt('--max-watts <w>', 'power drawn at full load', nonNegative);
  opt('--cost <hkd>', 'purchase cost, HK$', integer(0, 1e15));
  opt('--phase <n>', 'procurement phase', integer(0, 100));
  cmd.addOption(new Option('--state <state>', 'planned, ordered, active or retired').choices(STATES));
  opt('--ordered-on <date>', 'date ordered (YYYY-MM-DD)', day);
  opt('--active-from <date>', 'date in service (YYYY-MM-DD)', day);
  opt('--retired-on <date>', 'date retired (YYYY-MM-DD)', day);
  opt('--overcommit-cpu <x>', 'reservations may reach CPU × this', positive);
  opt('--overcommit-memory <x>', 'reservations may reach memory × this', positive);
  return cmd;
};

const farmPath = (code: string) => `/farms/${encodeURIComponent(code)}`;

/** `govhost farms ...` and `govhost quota ...`: the platform's capacity and its shares. */
export function registerCapacityCommands(program: Command): void {
  const farms = program.command('farms').description('server farms: capacity, reservations, use');

  farms
    .command('list', { isDefault: true })
    .description('farms with their capacity, reservations and measured use')
    .addOption(new Option('--state <state>', 'only farms in this state').choices(STATES))
    .action(
      act<{ state?: string }>(async (ctx, opts) => {
        const res = await ctx.api.get<{ items: Farm[] }>('/farms', { state: opts.state });
        ctx.print(res, () =>
          table(res.items, [
            ['farm', (f) => `${f.code}${f.isLocal ? '*' : ''}`],
            ['state', (f) => f.state],
            ['vCPU', (f) => f.capacity.vcpu],
            ['memory', (f) => gb(f.capacity.memoryMb)],
            ['overcommit', (f) => `${f.overcommit.cpu}/${f.overcommit.memory}`],
            ['instances', (f) => f.reserved.instances],
            ['CPU reserved', (f) => pct(f.reserved.cpu, f.reservable.cpu)],
            ['mem reserved', (f) => pct(f.reserved.memoryMb, f.reservable.memoryMb)],
            ['CPU used', (f) => (f.used ? cpuAmount(f.used.cpu) : '-')],
            ['mem used', (f) => (f.used ? gb(f.used.memoryMb) : '-')],
            [
              'suggest',
              (f) =>
                f.suggestedOvercommit ? `${f.suggestedOvercommit.cpu}/${f.suggestedOvercommit.memory}` : '-',
            ],
          ]),
        );
      }),
    );

  farms
    .command('show')
    .description('one farm in full')
    .argument('<code>', 'farm code')
    .action(
      act(async (ctx, _opts, code) => {
        const f = await ctx.api.get<Farm>(farmPath(code));
        ctx.print(f, () => showFarm(f));
      }),
    );

  farmOptions(
    farms.command('add').description('add a farm (operators)').argument('<code>', 'farm code, e.g. FARM-01'),
    true,
  ).action(
    act<FarmOptions>(async (ctx, opts, code) => {
      const f = await ctx.api.post<Farm>('/farms', { code, ...farmFields(opts) });
      ctx.print(f, () => showFarm(f));
    }),
  );

  farmOptions(
    farms
      .command('set')
      .description('change a farm: state (with its date), figures, overcommit')
      .argument('<code>', 'farm code'),
    false,
  ).action(
    act<FarmOptions>(async (ctx, opts, code) => {
      const f = await ctx.api.patch<Farm>(
        farmPath(code),
        patchOf(farmFields(opts), 'an option such as --state or --overcommit-cpu'),
      );
      ctx.print(f, () => showFarm(f));
    }),
  );

  const quota = program
    .command('quota')
    .description("a department's quota and use (your own department when none is given)")
    .argument('[dept]', 'department code')
    .action(
      act(async (ctx, _opts, dept) => {
        const code = dept ?? (await ctx.api.get<{ department: string | null }>('/me')).department;
        if (!code) throw new InvalidArgumentError('give a department code');
        const q = await ctx.api.get<Quota>(`/departments/${encodeURIComponent(code)}/quota`);
        ctx.print(q, () => `${q.department}\n${showQuota(q)}`);
      }),
    );

  quota
    .command('set')
    .description("set a department's quota (operators); limits not given stay")
    .argument('<dept>', 'department code')
    .addOption(new Option('--memory <size>', 'memory, e.g. 64G').argParser(sizeMb))
    .addOption(new Option('--instances <n>', 'instances').argParser(integer(0, 1_000_000)))
    .addOption(new Option('--services <n>', 'services').argParser(integer(0, 1_000_000)))
    .action(
      act<{ memory?: number; instances?: number; services?: number }>(async (ctx, opts, dept) => {
        const q = await ctx.api.put<Quota>(
          `/departments/${encodeURIComponent(dept)}/quota`,
          patchOf(
            { memoryMb: opts.memory, instances: opts.instances, services: opts.services },
            '--memory, --instances or --services',
          ),
        );
        ctx.print(q, () => `${q.department}\n${showQuota(q)}`);
      }),
    );
}
