import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { record, table, when } from '../output.ts';
import { resolveRef } from './services.ts';

interface Cutover {
  service: string;
  legacyUrl: string;
  legacyHost: string | null;
  legacyCa: boolean;
  percent: number;
  newPaths: string[];
  sticky: boolean;
  fallbackErrorRate: number | null;
  updatedBy: string;
  updatedAt: string;
}

interface Side {
  requests: number;
  errors5xx: number;
  errorRate: number | null;
  latencyMs: { p50: number; p95: number; mean: number };
}

/** `10%`, `10` or `100 %` → 10; anything else is the user's mistake, said plainly. */
export function parsePercent(raw: string): number {
  const m = /^\s*(\d{1,3})\s*%?\s*$/.exec(raw);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n >= 0 && n <= 100))
    throw usageError(`--to takes a whole percent from 0% to 100%, got ${JSON.stringify(raw)}`);
  return n;
}

const show = (c: Cutover) =>
  record([
    ['service', c.service],
    ['new release', `${c.percent} %${c.newPaths.length ? `, and always ${c.newPaths.join(' ')}` : ''}`],
    ['legacy', `${100 - c.percent} % to ${c.legacyUrl}${c.legacyHost ? ` (Host: ${c.legacyHost})` : ''}`],
    ['sticky', c.sticky ? 'yes (hash of the client address)' : 'no'],
    ['CA', c.legacyCa ? 'its own' : null],
    ['fallback', c.fallbackErrorRate === null ? 'manual' : `automatic above ${c.fallbackErrorRate} % 5xx`],
    ['changed', `${when(c.updatedAt)} by ${c.updatedBy}`],
  ]);

const pct = (v: number | null) => (v === null ? '-' : `${v} %`);

/**
 * `govhost migration front|shift|back|compare|cutover ...`: a service's cut-over from its legacy
 * service (decision 035). Added to the `migration` command whoever registers it first.
 */
export function registerCutoverCommands(program: Command): void {
  const migration =
    program.commands.find((c) => c.name() === 'migration') ??
    program.command('migration').description('the migration programme: legacy services moving to GovHost');

  migration
    .command('front')
    .description(
      'front a service with its legacy service: the router shares requests between them (operators)',
    )
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .requiredOption('--legacy <url>', 'the legacy service, http(s)://host[:port] (on GOVHOST_LEGACY_ALLOW)')
    .option('--host <host>', 'Host header sent to the legacy service (default: the citizen’s)')
    .option('--ca-file <file>', 'PEM CA certificates to trust for an https legacy service')
    .option('--to <percent>', 'share for the new release', '0%')
    .option(
      '--paths <prefixes>',
      'comma-separated path prefixes the new release serves whole, e.g. /forms,/api',
    )
    .option('--sticky', 'keep each client on one side (hash of its address)')
    .option(
      '--fallback-above <percent>',
      'send all traffic back to legacy when the new release answers this % 5xx',
    )
    .action(
      act<{
        legacy: string;
        host?: string;
        caFile?: string;
        to: string;
        paths?: string;
        sticky?: boolean;
        fallbackAbove?: string;
      }>(async (ctx, opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        let legacyCa: string | undefined;
        if (opts.caFile) {
          try {
            legacyCa = readFileSync(opts.caFile, 'utf8');
          } catch (err) {
            throw usageError(`cannot read --ca-file ${opts.caFile}: ${(err as NodeJS.ErrnoException).code}`);
          }
        }
        const fallback =
          opts.fallbackAbove === undefined ? undefined : Number(opts.fallbackAbove.replace('%', ''));
        if (fallback !== undefined && !(fallback > 0 && fallback <= 100))
          throw usageError(
            `--fallback-above takes a percent above 0 and at most 100, got ${opts.fallbackAbove}`,
          );
        const c = await ctx.api.put<Cutover>(`${service.path}/cutover`, {
          legacyUrl: opts.legacy,
          ...(opts.host ? { legacyHost: opts.host } : {}),
          ...(legacyCa ? { legacyCa } : {}),
          percent: parsePercent(opts.to),
          ...(opts.paths
            ? {
                newPaths: opts.paths
                  .split(',')
                  .map((p) => p.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(opts.sticky ? { sticky: true } : {}),
          ...(fallback !== undefined ? { fallbackErrorRate: fallback } : {}),
        });
        ctx.print(c, () => show(c));
      }),
    );

  migration
    .command('shift')
    .description('send this share of requests to the new release, the rest to legacy (operators)')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .requiredOption('--to <percent>', 'e.g. 10%, 50%, 100%')
    .action(
      act<{ to: string }>(async (ctx, opts, ref) => {
        const percent = parsePercent(opts.to);
        const service = await resolveRef(ctx.api, ref as string);
        const c = await ctx.api.post<Cutover>(`${service.path}/cutover/shift`, { percent });
        ctx.print(
          c,
          () => `${c.service}: ${c.percent} % to the new release, ${100 - c.percent} % to legacy.`,
        );
      }),
    );

  migration
    .command('back')
    .description('instant fallback: every request to the legacy service at once (operators)')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        const c = await ctx.api.post<Cutover>(`${service.path}/cutover/back`);
        ctx.print(c, () => `${c.service}: every request goes to the legacy service (${c.legacyUrl}).`);
      }),
    );

  migration
    .command('cutover')
    .description("a service's cut-over: legacy upstream, share, paths")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        const c = await ctx.api.get<Cutover>(`${service.path}/cutover`);
        ctx.print(c, () => show(c));
      }),
    );

  migration
    .command('compare')
    .description('legacy and new side by side: error rate and latency from the router (parallel run)')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        const c = await ctx.api.get<{
          service: string;
          percent: number;
          windowSec: number;
          new: Side;
          legacy: Side;
        }>(`${service.path}/cutover/compare`);
        const rows: [string, Side][] = [
          ['new', c.new],
          ['legacy', c.legacy],
        ];
        ctx.print(c, () =>
          [
            `${c.service}: ${c.percent} % to the new release; the last ${c.windowSec} s`,
            table(rows, [
              ['side', ([s]) => s],
              ['requests', ([, s]) => String(s.requests)],
              ['5xx', ([, s]) => pct(s.errorRate)],
              ['p50 ms', ([, s]) => String(s.latencyMs.p50)],
              ['p95 ms', ([, s]) => String(s.latencyMs.p95)],
            ]),
          ].join('\n'),
        );
      }),
    );

  migration
    .command('unfront')
    .description('stop fronting the legacy service: every request to the new release (operators)')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        await ctx.api.delete(`${service.path}/cutover`);
        ctx.print({ removed: service.name }, () => `${service.name} no longer fronts a legacy service.`);
      }),
    );
}
