import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Budget } from '../../finance/budget.logic.ts';
import { type BusinessCase, businessCaseCsv } from '../../finance/cost-model.ts';
import type { Rate } from '../../finance/rate.repository.ts';
import type { RateProposal } from '../../finance/rate-proposal.logic.ts';
import type { Scenario } from '../../finance/scenario.logic.ts';
import type { sharingBusinessCase } from '../../finance/sharing.logic.ts';
import { type Statement, statementCsv } from '../../finance/statement.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { record, table, when } from '../output.ts';

/** Thousands as the paper prints them: 35,000; a zero is '-'; right-aligned in the column. */
const k = (v: number | null, width: number) =>
  (v === null ? '' : v === 0 ? '-' : v.toLocaleString('en-GB')).padStart(width);

export function annexText(bc: BusinessCase & { scenario: string }): string {
  const width = 7;
  const rows = table(bc.annex, [
    [`HK$'000 (${bc.scenario})`, (r) => (r.sum ? r.labelEn : `  ${r.labelEn}`)],
    ...bc.years.map((y, i): [string, (r: BusinessCase['annex'][number]) => string] => [
      y,
      (r) => k(r.byYear[i] ?? 0, width),
    ]),
    ['total', (r) => k(r.total, width + 1)],
  ]);
  const t = bc.totals;
  return `${rows}\n\ntotal cost ${k(t.cost, 0)}, total savings ${k(t.savings, 0)}, net savings ${k(t.net, 0)} (HK$ thousands)`;
}

const scenarioText = (s: Scenario) =>
  record([
    ['scenario', s.name],
    ['description', s.description],
    ['built in', s.builtIn ? 'yes (read-only)' : 'no'],
    ['based on', s.basedOn],
    ['years', `${s.model.years[0]} to ${s.model.years.at(-1)}`],
    [
      'contingency',
      'rate' in s.model.nonRecurring.contingency
        ? `${s.model.nonRecurring.contingency.rate * 100}% of (a) to (c)`
        : 'amounts as given',
    ],
    ['updated', s.updatedAt ? `${when(s.updatedAt)} by ${s.updatedBy}` : null],
  ]);

type Sharing = Awaited<ReturnType<typeof sharingBusinessCase>>;
const hkdM = (v: number | null) => (v === null ? null : `HK$${(v / 1_000_000).toFixed(1)}M`);

export function sharingText(r: Sharing): string {
  if (!r.referenceFarm)
    return 'no active farm to size the comparison on: register farms first (govhost farms)';
  const depts = table(r.departments, [
    ['department', (d) => d.department],
    ['reserved', (d) => d.reservedServices],
    ['planned', (d) => d.plannedServices],
    ['vCPU', (d) => Math.round(d.cpu * 10) / 10],
    ['memory GB', (d) => Math.round(d.memoryMb / 102.4) / 10],
    ['farms alone', (d) => d.farmsAlone],
  ]);
  const f = r.referenceFarm;
  return `${depts}\n\n${record([
    [
      'reference farm',
      `${f.code}: ${f.vcpu} vCPU, ${Math.round(f.memoryMb / 1024)} GB, filled to ${r.target * 100} %`,
    ],
    ['farms alone', r.farmsAlone],
    ['farms shared', r.farmsShared],
    ['farms avoided', r.farmsAvoided],
    ['saved', `${hkdM(r.costAvoidedHkd)} (${r.costBasis})`],
    [
      'the paper [13]',
      `up to ${r.paper.farmsAvoided} farms, ${hkdM(r.paper.savingsHkd)} (docs/finance.md explains the difference)`,
    ],
  ])}`;
}

/** `govhost finance ...`: the business case and its scenarios. */
export function registerFinanceCommands(program: Command): void {
  const finance = program
    .command('finance')
    .description('finance: the business case, its scenarios and the savings of sharing');

  finance
    .command('business-case')
    .description("a scenario's annex: costs, savings, net and cumulative net savings by financial year")
    .option('--scenario <name>', 'scenario (default paper: the Finance Committee paper as printed)')
    .option('--csv', 'write CSV (RFC 4180) to standard output')
    .action(
      act<{ scenario?: string; csv?: boolean }>(async (ctx, opts) => {
        if (opts.csv && ctx.json) throw usageError('give --csv or --json, not both');
        const bc = await ctx.api.get<BusinessCase & { scenario: string }>('/finance/business-case', {
          scenario: opts.scenario,
        });
        if (opts.csv) process.stdout.write(businessCaseCsv(bc));
        else ctx.print(bc, () => annexText(bc));
      }),
    );

  finance
    .command('sharing')
    .description(
      "the savings of sharing: farms each department would need alone against shared, beside the paper's 78 farms",
    )
    .action(
      act(async (ctx) => {
        const r = await ctx.api.get<Sharing>('/finance/sharing');
        ctx.print(r, () => sharingText(r));
      }),
    );

  const hk = (centsValue: number) =>
    `HK$${(centsValue / 100).toLocaleString('en-GB', { minimumFractionDigits: 2 })}`;
  finance
    .command('statement')
    .description(
      "a department's monthly statement: reserved memory, CPU and disk over time, priced by the rate card",
    )
    .requiredOption('--department <code>', 'the department (your own, for a department role)')
    .requiredOption('--month <YYYY-MM>', 'the calendar month (UTC)')
    .option('--csv', 'write CSV (RFC 4180) to standard output, amounts in cents')
    .action(
      act<{ department: string; month: string; csv?: boolean }>(async (ctx, opts) => {
        if (opts.csv && ctx.json) throw usageError('give --csv or --json, not both');
        const s = await ctx.api.get<Statement>('/finance/statements', {
          department: opts.department,
          month: opts.month,
        });
        if (opts.csv) {
          process.stdout.write(statementCsv(s));
          return;
        }
        ctx.print(s, () => {
          const lines = s.lines.length
            ? table(s.lines, [
                ['service', (l) => l.service],
                ['resource', (l) => l.resource],
                ['rate from', (l) => l.rateFrom],
                ['cents/unit', (l) => l.centsPerUnit],
                ['quantity', (l) => l.quantity],
                ['amount', (l) => hk(l.amountCents)],
              ])
            : `nothing reserved by ${s.department} in ${s.month}`;
          const partial = s.partial ? ` (${s.month} is not over: up to ${when(s.pricedTo)})` : '';
          const unpriced = s.unpricedHours ? `; ${s.unpricedHours} reserved hours had no rate` : '';
          return `${lines}\n\n${s.department} ${s.month}: ${hk(s.totalCents)}${partial}${unpriced}`;
        });
      }),
    );

  finance
    .command('close <YYYY-MM>')
    .description("close a month that is over: every department's statement is kept as it stands (finance)")
    .action(
      act(async (ctx, _opts, month) => {
        const r = await ctx.api.post<{ month: string; departments: number; totalCents: number }>(
          `/finance/months/${encodeURIComponent(month ?? '')}/close`,
        );
        ctx.print(
          r,
          () => `closed ${r.month}: ${r.departments} department statements, ${hk(r.totalCents)} in all`,
        );
      }),
    );
  finance
    .command('adjust')
    .description("book a correction on a department's statement of an open month (finance)")
    .requiredOption('--department <code>', 'the department')
    .requiredOption('--month <YYYY-MM>', 'the open month it is booked in')
    .option('--for <YYYY-MM>', 'the (closed) month it corrects')
    .requiredOption('--cents <n>', 'HK cents, negative for a credit')
    .requiredOption('--reason <text>', 'why')
    .action(
      act<{ department: string; month: string; for?: string; cents: string; reason: string }>(
        async (ctx, opts) => {
          const amountCents = Number(opts.cents);
          if (!Number.isInteger(amountCents) || amountCents === 0)
            throw usageError(`--cents must be a whole number of cents other than 0, not ${opts.cents}`);
          const s = await ctx.api.post<Statement>('/finance/adjustments', {
            department: opts.department,
            month: opts.month,
            ...(opts.for ? { forMonth: opts.for } : {}),
            amountCents,
            reason: opts.reason,
          });
          ctx.print(s, () => `${s.department} ${s.month}: ${hk(s.totalCents)} with the adjustment`);
        },
      ),
    );

  finance
    .command('expected')
    .description(
      "a department's expected charge for a financial year, from its reservations and planned pipeline",
    )
    .requiredOption('--department <code>', 'the department (your own, for a department role)')
    .requiredOption('--year <YYYY-YY>', 'the financial year, April to March, e.g. 2027-28')
    .action(
      act<{ department: string; year: string }>(async (ctx, opts) => {
        const r = await ctx.api.get<{
          department: string;
          year: string;
          months: { month: string; memoryMb: number; cpu: number; storageMb: number; cents: number }[];
          totalCents: number;
          unpriced: boolean;
        }>('/finance/expected-charge', { department: opts.department, year: opts.year });
        ctx.print(r, () => {
          const rows = table(r.months, [
            ['month', (m) => m.month],
            ['cpu', (m) => m.cpu],
            ['memory GB', (m) => Math.round(m.memoryMb / 102.4) / 10],
            ['disk GB', (m) => Math.round(m.storageMb / 102.4) / 10],
            ['expected', (m) => hk(Math.round(m.cents))],
          ]);
          const note = r.unpriced ? ' (some demand has no rate yet: left out)' : '';
          return `${rows}\n\n${r.department} ${r.year}: ${hk(r.totalCents)} expected${note}`;
        });
      }),
    );

  const rates = finance
    .command('rates')
    .description(
      'the rate card: HK cents per GB-hour, CPU-hour, thousand requests and minute of staging, each from a day on',
    );
  rates
    .command('list', { isDefault: true })
    .description('every rate, oldest first')
    .action(
      act(async (ctx) => {
        const list = await ctx.api.get<Rate[]>('/finance/rates');
        ctx.print(list, () =>
          list.length
            ? table(list, [
                ['resource', (r) => r.resource],
                ['from', (r) => r.validFrom],
                ['cents/unit', (r) => r.centsPerUnit],
                ['note', (r) => r.note],
                ['by', (r) => r.createdBy],
              ])
            : 'no rates yet: govhost finance rates add RESOURCE --from DAY --cents N',
        );
      }),
    );
  rates
    .command('add <resource>')
    .description(
      'add a rate (memory-gb-hour, cpu-hour, storage-gb-hour, request-thousand or staging-minute) from a day on: today or later',
    )
    .requiredOption('--from <YYYY-MM-DD>', 'its first day (UTC)')
    .requiredOption('--cents <n>', 'HK cents per unit')
    .option('--note <text>', 'why')
    .action(
      act<{ from: string; cents: string; note?: string }>(async (ctx, opts, resource) => {
        const centsPerUnit = Number(opts.cents);
        if (opts.cents.trim() === '' || !Number.isFinite(centsPerUnit) || centsPerUnit < 0)
          throw usageError(`--cents must be a number of cents, 0 or more, not ${opts.cents}`);
        const list = await ctx.api.post<Rate[]>('/finance/rates', {
          resource,
          validFrom: opts.from,
          centsPerUnit,
          ...(opts.note ? { note: opts.note } : {}),
        });
        ctx.print(list, () => `${resource} at ${centsPerUnit} cents from ${opts.from}`);
      }),
    );

  rates
    .command('propose')
    .description(
      "rates derived from a scenario: a year's recurring cost recovered at a target utilisation of the active farms",
    )
    .requiredOption('--year <YYYY-YY>', "the scenario's financial year whose recurring cost is recovered")
    .option('--scenario <name>', 'the scenario (default paper)')
    .option('--utilisation <share>', 'share of the capacity sold, above 0 and at most 1 (default 0.8)')
    .option('--memory-share <share>', 'share of the cost put on memory, the rest on CPU (default 0.5)')
    .option('--adopt-from <YYYY-MM-DD>', 'add the proposed rates to the card from this day (finance)')
    .action(
      act<{
        year: string;
        scenario?: string;
        utilisation?: string;
        memoryShare?: string;
        adoptFrom?: string;
      }>(async (ctx, opts) => {
        const share = (v: string | undefined, flag: string) => {
          if (v === undefined) return undefined;
          const n = Number(v);
          if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
            throw usageError(`${flag} must be a share from 0 to 1, e.g. 0.8, not ${v}`);
          return n;
        };
        const q = {
          scenario: opts.scenario,
          year: opts.year,
          utilisation: share(opts.utilisation, '--utilisation'),
          memoryShare: share(opts.memoryShare, '--memory-share'),
        };
        // Adopted by the API in one step (both rates or neither), on the proposal it computes then.
        const p = opts.adoptFrom
          ? (
              await ctx.api.post<{ proposal: RateProposal }>('/finance/rates/proposal/adopt', {
                ...q,
                validFrom: opts.adoptFrom,
              })
            ).proposal
          : await ctx.api.get<RateProposal>('/finance/rates/proposal', q);
        ctx.print(p, () => {
          const rows = table(p.rates, [
            ['resource', (r) => r.resource],
            ['cents/unit', (r) => r.centsPerUnit],
            ['recovers', (r) => hk(r.recoversCents)],
          ]);
          const basis = `${p.scenario} ${p.year}: recurring cost ${hk(p.recurringCostCents)} over ${p.hours} h, ${Math.round(p.capacity.cpu * 10) / 10} CPU and ${Math.round(p.capacity.memoryGb * 10) / 10} GB at ${p.utilisation * 100} %, ${p.memoryShare * 100} % on memory`;
          const adopted = opts.adoptFrom ? `\nadopted from ${opts.adoptFrom}` : '';
          return `${rows}\n\n${basis}${adopted}`;
        });
      }),
    );

  const scenarios = finance
    .command('scenarios')
    .description("business-case scenarios: the paper's and copies");
  scenarios
    .command('list')
    .description('every scenario')
    .action(
      act(async (ctx) => {
        const list = await ctx.api.get<Scenario[]>('/finance/scenarios');
        ctx.print(list, () =>
          table(list, [
            ['name', (s) => s.name],
            ['built in', (s) => (s.builtIn ? 'yes' : 'no')],
            ['based on', (s) => s.basedOn],
            ['description', (s) => s.description],
          ]),
        );
      }),
    );
  scenarios
    .command('show <name>')
    .description('one scenario (with --json, its whole cost model: edit it and give it to set)')
    .action(
      act(async (ctx, _opts, name) => {
        const s = await ctx.api.get<Scenario>(`/finance/scenarios/${encodeURIComponent(name ?? '')}`);
        ctx.print(s, () => scenarioText(s));
      }),
    );
  scenarios
    .command('copy <name>')
    .description('copy a scenario under a new name, to edit')
    .option('--from <scenario>', 'the scenario to copy (default paper)')
    .option('--description <text>', 'what the copy is for')
    .action(
      act<{ from?: string; description?: string }>(async (ctx, opts, name) => {
        const s = await ctx.api.post<Scenario>('/finance/scenarios', { name, ...opts });
        ctx.print(s, () => scenarioText(s));
      }),
    );
  scenarios
    .command('set <name> <model.json>')
    .description("replace a copy's cost model with a file's (the model of `scenarios show --json`)")
    .action(
      act(async (ctx, _opts, name, file) => {
        let model: unknown;
        try {
          const parsed = JSON.parse(await readFile(file ?? '', 'utf8'));
          model = parsed.model ?? parsed;
        } catch (err) {
          throw usageError(`cannot read the cost model ${file}: ${(err as Error).message}`);
        }
        const s = await ctx.api.put<Scenario>(`/finance/scenarios/${encodeURIComponent(name ?? '')}`, {
          model,
        });
        ctx.print(s, () => scenarioText(s));
      }),
    );
  scenarios
    .command('delete <name>')
    .description('delete a copy')
    .action(
      act(async (ctx, _opts, name) => {
        await ctx.api.delete(`/finance/scenarios/${encodeURIComponent(name ?? '')}`);
        ctx.print(undefined, () => `deleted scenario ${name}`);
      }),
    );

  const budgets = finance
    .command('budgets')
    .description("departments' monthly and yearly budgets, with what is spent and the thresholds told");
  budgets
    .command('list', { isDefault: true })
    .description("every budget you may see, with this period's spend")
    .option('--department <code>', 'one department')
    .action(
      act<{ department?: string }>(async (ctx, opts) => {
        const list = await ctx.api.get<Budget[]>('/finance/budgets', { department: opts.department });
        ctx.print(list, () =>
          list.length
            ? table(list, [
                ['department', (b) => b.department],
                ['period', (b) => `${b.period} ${b.periodKey}`],
                ['budget', (b) => hk(b.amountCents)],
                ['spent', (b) => `${hk(b.spentCents)} (${Math.round(b.share * 1000) / 10} %)`],
                ['alerts at', (b) => b.thresholds.map((th) => `${th} %`).join(', ')],
                ['told', (b) => b.alerts.map((x) => `${x.threshold} %`).join(', ')],
              ])
            : 'no budgets yet: govhost finance budgets set --department CODE --period month --cents N',
        );
      }),
    );
  budgets
    .command('set')
    .description("set a department's budget for each month or financial year (finance)")
    .requiredOption('--department <code>', 'the department')
    .requiredOption('--period <month|year>', 'month (calendar, UTC) or year (financial, April to March)')
    .requiredOption('--cents <n>', 'the budget in HK cents')
    .option('--thresholds <list>', 'percentages to be told at, e.g. 80,100 (the default)')
    .action(
      act<{ department: string; period: string; cents: string; thresholds?: string }>(async (ctx, opts) => {
        if (opts.period !== 'month' && opts.period !== 'year')
          throw usageError(`--period must be month or year, not ${opts.period}`);
        const amountCents = Number(opts.cents);
        if (!Number.isInteger(amountCents) || amountCents <= 0)
          throw usageError(`--cents must be a whole number of cents above 0, not ${opts.cents}`);
        const thresholds = opts.thresholds?.split(',').map((x) => Number(x.trim()));
        if (thresholds?.some((x) => !Number.isInteger(x) || x < 1))
          throw usageError(
            `--thresholds must be whole percentages separated by commas, not ${opts.thresholds}`,
          );
        const b = await ctx.api.put<Budget>(
          `/finance/budgets/${encodeURIComponent(opts.department)}/${opts.period}`,
          { amountCents, ...(thresholds ? { thresholds } : {}) },
        );
        ctx.print(
          b,
          () =>
            `${b.department} ${b.period}ly budget ${hk(b.amountCents)}, alerts at ${b.thresholds.join(', ')} %; spent ${hk(b.spentCents)} in ${b.periodKey}`,
        );
      }),
    );
  budgets
    .command('remove')
    .description("remove a department's budget (finance)")
    .requiredOption('--department <code>', 'the department')
    .requiredOption('--period <month|year>', 'month or year')
    .action(
      act<{ department: string; period: string }>(async (ctx, opts) => {
        if (opts.period !== 'month' && opts.period !== 'year')
          throw usageError(`--period must be month or year, not ${opts.period}`);
        await ctx.api.delete(`/finance/budgets/${encodeURIComponent(opts.department)}/${opts.period}`);
        ctx.print(undefined, () => `removed the ${opts.period}ly budget of ${opts.department}`);
      }),
    );
}
