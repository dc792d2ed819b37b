import type { Command } from 'commander';
import { slaCsv } from '../../monitoring/sla.csv.ts';
import type { SlaReport } from '../../monitoring/sla.logic.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { table } from '../output.ts';

const percent = (v: number | null) => (v === null ? null : `${v} %`);
const met = (v: boolean | null) => (v === null ? null : v ? 'yes' : 'NO');

/** `govhost report ...`: reports over the platform's records. */
export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('reports: SLA availability');

  report
    .command('sla')
    .description('monthly availability of each service against its SLA tier (maintenance excluded)')
    .requiredOption('--month <YYYY-MM>', 'the calendar month (UTC), e.g. 2026-11')
    .option('--department <code>', 'only this department')
    .option('--csv', 'write CSV (RFC 4180) to standard output')
    .action(
      act<{ month: string; department?: string; csv?: boolean }>(async (ctx, opts) => {
        if (opts.csv && ctx.json) throw usageError('give --csv or --json, not both');
        const r = await ctx.api.get<SlaReport>('/reports/sla', {
          month: opts.month,
          department: opts.department,
        });
        if (opts.csv) {
          // The same writer as the server's export, so both give the same file.
          process.stdout.write(slaCsv(r));
          return;
        }
        ctx.print(r, () => {
          if (r.services.length === 0) return `no services in the SLA report for ${r.month}`;
          const rows = table(r.services, [
            // A retired (or now suspended) service is listed for the months it was active: say so.
            [
              'service',
              (l) => `${l.department}/${l.service}${l.lifecycle === 'active' ? '' : ` (${l.lifecycle})`}`,
            ],
            ['tier', (l) => `${l.tier} ${l.target} %`],
            ['eligible min', (l) => l.eligibleMinutes],
            ['down min', (l) => l.downtimeMinutes],
            ['maint min', (l) => l.maintenanceMinutes],
            ['availability', (l) => percent(l.availability)],
            ['met', (l) => met(l.met)],
            ['outages', (l) => l.outages],
            ['incidents', (l) => l.incidents],
          ]);
          const t = r.totals;
          const total = `${t.services} services, ${t.met} met, ${t.notMet} not met; overall ${percent(t.availability) ?? 'no data'}, ${t.downtimeMinutes} min down, ${t.maintenanceMinutes} min maintenance`;
          const partial = r.partial ? `\n${r.month} is not over: figures up to ${r.generatedAt}` : '';
          return `${rows}\n\n${total}${partial}`;
        });
      }),
    );
}
