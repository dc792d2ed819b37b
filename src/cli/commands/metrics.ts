import type { Command } from 'commander';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { integer } from '../options.ts';
import { table } from '../output.ts';
import { resolveRef } from './services.ts';

interface Point {
  t: string;
  requests: { total: number; '5xx': number };
  latencyMs: { p95: number | null };
  probes: { total: number; successRatio: number | null };
}

interface Metrics {
  service: string;
  step: number;
  points: Point[];
  instances: { instanceId: string; points: { t: string; cpu: number; memoryMaxBytes: number | null }[] }[];
  current: { state: string } | null;
}

/** `90m`, `1h`, `2d` → milliseconds. */
export function parseSince(raw: string): number {
  const m = /^(\d+)\s*(m|h|d)$/i.exec(raw.trim());
  if (!m) throw usageError(`--since must look like 30m, 6h or 7d, got ${JSON.stringify(raw)}`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]!.toLowerCase() as 'm' | 'h' | 'd'];
}

const pct = (x: number | null) => (x === null ? null : `${Math.round(x * 1000) / 10}`);
const mib = (b: number) => `${Math.round(b / 1024 / 1024)}M`;

/** `govhost metrics DEPT/slug`. */
export function registerMetricsCommands(program: Command): void {
  program
    .command('metrics')
    .description("a service's traffic, latency, availability and resources over time")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .option('--since <age>', 'how far back, e.g. 30m, 6h, 7d (default 1h)')
    .option('--from <time>', 'start, ISO 8601 (instead of --since)')
    .option('--to <time>', 'end, ISO 8601 (default now)')
    .option('--step <seconds>', 'seconds per row, a multiple of 60', integer(60, 31_536_000), 60)
    .action(
      act<{ since?: string; from?: string; to?: string; step: number }>(async (ctx, opts, ref) => {
        if (opts.since && opts.from) throw usageError('give --since or --from, not both');
        if (opts.step % 60 !== 0) throw usageError('--step must be a multiple of 60');
        const service = await resolveRef(ctx.api, ref as string);
        const to = opts.to ? new Date(opts.to) : new Date();
        if (Number.isNaN(to.getTime())) throw usageError('--to is not a valid time');
        const from = opts.from
          ? new Date(opts.from)
          : new Date(to.getTime() - parseSince(opts.since ?? '1h'));
        if (Number.isNaN(from.getTime())) throw usageError('--from is not a valid time');
        const m = await ctx.api.get<Metrics>(`${service.path}/metrics`, {
          from: from.toISOString(),
          to: to.toISOString(),
          step: String(opts.step),
        });
        ctx.print(m, () => {
          const byT = new Map<string, { cpu: number; mem: number; seen: boolean }>();
          for (const i of m.instances)
            for (const p of i.points) {
              const r = byT.get(p.t) ?? { cpu: 0, mem: 0, seen: false };
              r.cpu += p.cpu;
              r.mem += p.memoryMaxBytes ?? 0;
              r.seen = true;
              byT.set(p.t, r);
            }
          const minutes = m.step / 60;
          const rows = table(m.points, [
            ['time', (p) => `${p.t.slice(0, 10)} ${p.t.slice(11, 16)}Z`],
            ['req/min', (p) => Math.round((p.requests.total / minutes) * 10) / 10],
            ['5xx %', (p) => (p.requests.total ? pct(p.requests['5xx'] / p.requests.total) : null)],
            ['p95 ms', (p) => p.latencyMs.p95],
            ['up %', (p) => pct(p.probes.successRatio)],
            ['cpu %', (p) => (byT.get(p.t)?.seen ? pct(byT.get(p.t)!.cpu) : null)],
            ['memory', (p) => (byT.get(p.t)?.seen ? mib(byT.get(p.t)!.mem) : null)],
          ]);
          return `${m.service}: ${m.current ? m.current.state : 'not monitored'}\n${rows}`;
        });
      }),
    );
}
