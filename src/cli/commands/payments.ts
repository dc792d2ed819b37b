import type { Command } from 'commander';
import { reconciliationCsv } from '../../payments/reconcile.csv.ts';
import type { ServiceDay } from '../../payments/settlement.logic.ts';
import type { Figures, Summary } from '../../payments/summary.logic.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { table, when } from '../output.ts';
import { resolveRef } from './services.ts';

interface Key {
  id: string;
  name: string;
  mode: string;
  prefix: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}
interface Payment {
  id: string;
  reference: string;
  amount: number;
  state: string;
  mode: string;
  refunded: number;
  createdAt: string;
}

interface WindowOptions {
  department?: string;
  service?: string;
  from?: string;
  to?: string;
  mode?: string;
}
const hkd = (cents: number) => `HK$${(cents / 100).toFixed(2)}`;

/** `govhost payments keys|key-create|key-revoke|webhook…|list|summary|report|reconcile|sandbox` (docs/payments.md). */
export function registerPaymentCommands(program: Command): void {
  const payments = program
    .command('payments')
    .description('the shared payment service: keys, payments, sandbox');

  payments
    .command('keys')
    .description("a service's payment keys (never their secrets)")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const { items } = await ctx.api.get<{ items: Key[] }>(
          `${(await resolveRef(ctx.api, ref as string)).path}/payment-keys`,
        );
        ctx.print(items, () =>
          items.length === 0
            ? 'no payment keys'
            : table(items, [
                ['ID', (k) => k.id],
                ['NAME', (k) => k.name],
                ['MODE', (k) => k.mode],
                ['PREFIX', (k) => k.prefix],
                ['BY', (k) => k.createdBy],
                ['CREATED', (k) => when(k.createdAt)],
                ['REVOKED', (k) => when(k.revokedAt) ?? '-'],
              ]),
        );
      }),
    );

  payments
    .command('key-create')
    .description('make a payment key for a service; its secret is printed this once')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .requiredOption('--name <name>', 'what the key is for, e.g. web')
    .option('--mode <mode>', 'test (the sandbox); live is not available yet', 'test')
    .action(
      act<{ name: string; mode: string }>(async (ctx, opts, ref) => {
        if (opts.mode !== 'test' && opts.mode !== 'live')
          throw usageError(`--mode is test or live, not ${opts.mode}`);
        const path = `${(await resolveRef(ctx.api, ref as string)).path}/payment-keys`;
        const made = await ctx.api.post<{ key: Key; secret: string }>(path, {
          name: opts.name,
          mode: opts.mode,
        });
        ctx.print(made, () => `${made.secret}\nKeep it now: it is not shown again (key ${made.key.id}).`);
      }),
    );

  payments
    .command('key-revoke')
    .description('revoke a payment key at once')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .argument('<id>', 'the key id (govhost payments keys)')
    .action(
      act(async (ctx, _opts, ref, id) => {
        const path = `${(await resolveRef(ctx.api, ref as string)).path}/payment-keys/${encodeURIComponent(id as string)}`;
        const key = await ctx.api.delete<Key>(path);
        ctx.print(key, () => `revoked ${key.prefix}… (${key.name})`);
      }),
    );

  interface Webhook {
    service: string;
    url: string;
    updatedBy: string;
    updatedAt: string;
  }
  const webhookPath = async (ctx: { api: Parameters<typeof resolveRef>[0] }, ref: unknown) =>
    `${(await resolveRef(ctx.api, ref as string)).path}/payment-webhook`;
  /** A set or rotation's answer: the secret, when one was made, is printed this once. */
  const printSet = (made: { webhook: Webhook; secret: string | null }) =>
    made.secret
      ? `${made.secret}\nKeep it now: it is not shown again (webhook ${made.webhook.url}).`
      : `webhook ${made.webhook.url} (signing secret unchanged)`;

  payments
    .command('webhook')
    .description("a service's payment webhook (never its secret)")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const hook = await ctx.api.get<Webhook>(await webhookPath(ctx, ref));
        ctx.print(hook, () => `${hook.url}\nset by ${hook.updatedBy} at ${when(hook.updatedAt)}`);
      }),
    );

  payments
    .command('webhook-set')
    .description(
      "set where a service's payment webhooks go (a URL on its own host); a first set prints the signing secret once",
    )
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .argument('<url>', "e.g. https://renew.ird.gov.hk/webhooks/payments: on the service's own host")
    .action(
      act(async (ctx, _opts, ref, url) => {
        const made = await ctx.api.put<{ webhook: Webhook; secret: string | null }>(
          await webhookPath(ctx, ref),
          { url },
        );
        ctx.print(made, () => printSet(made));
      }),
    );

  payments
    .command('webhook-rotate')
    .description("make a new signing secret for a service's payment webhook; printed this once")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const made = await ctx.api.post<{ webhook: Webhook; secret: string | null }>(
          `${await webhookPath(ctx, ref)}/rotate-secret`,
        );
        ctx.print(made, () => printSet(made));
      }),
    );

  payments
    .command('webhook-remove')
    .description("stop sending a service's payment webhooks")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        await ctx.api.delete(await webhookPath(ctx, ref));
        ctx.print({ removed: true }, () => 'payment webhook removed');
      }),
    );

  withPaging(
    payments
      .command('list')
      .description("a service's payments, newest first")
      .argument('<service>', 'DEPT/slug, or slug in your department')
      .option('--reference <ref>', 'only this reference')
      .option('--state <state>', 'created, started, submitted, success, failed, cancelled or error'),
  ).action(
    act<PageOptions & { reference?: string; state?: string }>(async (ctx, opts, ref) => {
      const path = `${(await resolveRef(ctx.api, ref as string)).path}/payments`;
      const page = await fetchPage<Payment>(
        ctx.api,
        path,
        { reference: opts.reference, state: opts.state },
        opts,
      );
      printPage(ctx, page, 'payments', [
        ['ID', (p) => p.id],
        ['REFERENCE', (p) => p.reference],
        ['AMOUNT', (p) => hkd(p.amount)],
        ['STATE', (p) => p.state],
        ['MODE', (p) => p.mode],
        ['REFUNDED', (p) => (p.refunded ? hkd(p.refunded) : '-')],
        ['CREATED', (p) => when(p.createdAt)],
      ]);
    }),
  );

  payments
    .command('reconcile')
    .description("reconcile a day's ledger with the provider's settlement report and list every difference")
    .argument('<day>', 'YYYY-MM-DD (UTC)')
    .option('--department <code>', 'one department (department users: always their own)')
    .option('--csv', 'write CSV (RFC 4180) to standard output, one line per difference, amounts in cents')
    .action(
      act<{ department?: string; csv?: boolean }>(async (ctx, opts, day) => {
        if (opts.csv && ctx.json) throw usageError('give --csv or --json, not both');
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day as string)) throw usageError(`the day is YYYY-MM-DD, not ${day}`);
        const run = await ctx.api.post<{ services: ServiceDay[]; unknown: unknown[] }>(
          '/payment-reconciliations',
          {
            day,
            ...(opts.department ? { department: opts.department } : {}),
          },
        );
        if (opts.csv) {
          process.stdout.write(reconciliationCsv(run.services));
          return;
        }
        ctx.print(run, () => {
          if (run.services.length === 0) return `no payments or settlements on ${day}`;
          const sum = table(run.services, [
            ['DEPARTMENT', (s) => s.department],
            ['SERVICE', (s) => s.service],
            ['CAPTURED', (s) => hkd(s.ledgerCaptured)],
            ['SETTLED', (s) => hkd(s.providerCaptured)],
            ['REFUNDED', (s) => hkd(s.ledgerRefunded)],
            ['FEES', (s) => hkd(s.fees)],
            ['DIFFERENCES', (s) => String(s.differences.length)],
          ]);
          const diffs = run.services.flatMap((s) => s.differences.map((d) => ({ ...d, service: s.service })));
          const list =
            diffs.length === 0
              ? 'the ledger and the report agree'
              : table(diffs, [
                  ['SERVICE', (d) => d.service],
                  ['DIFFERENCE', (d) => d.kind],
                  ['ITEM', (d) => d.item],
                  ['PAYMENT', (d) => d.paymentId],
                  ['LEDGER', (d) => (d.ledgerAmount === null ? '-' : hkd(d.ledgerAmount))],
                  ['PROVIDER', (d) => (d.providerAmount === null ? '-' : hkd(d.providerAmount))],
                ]);
          const unknown = run.unknown.length
            ? `\n${run.unknown.length} report lines name no payment here`
            : '';
          return `${sum}\n\n${list}${unknown}`;
        });
      }),
    );

  const windowOptions = (c: Command) =>
    c
      .option('--department <code>', 'one department (department users: always their own)')
      .option('--service <slug>', 'one service of that department (needs --department)')
      .option('--from <day>', 'first UTC day, YYYY-MM-DD (default: 30 days before --to)')
      .option('--to <day>', 'last UTC day, included, YYYY-MM-DD (default: today)')
      .option('--mode <mode>', 'test or live (default: both)');
  const windowQuery = (opts: WindowOptions) => {
    for (const day of [opts.from, opts.to])
      if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day))
        throw usageError(`a day is YYYY-MM-DD, not ${day}`);
    if (opts.mode !== undefined && opts.mode !== 'test' && opts.mode !== 'live')
      throw usageError(`--mode is test or live, not ${opts.mode}`);
    if (opts.service && !opts.department) throw usageError('--service needs --department');
    return {
      department: opts.department,
      service: opts.service,
      from: opts.from,
      to: opts.to,
      mode: opts.mode,
    };
  };

  windowOptions(
    payments
      .command('summary')
      .description('payments made, success rate and refunds per service over a period of UTC days')
      .option('--by <period>', 'also per day or month (day, month)'),
  ).action(
    act<WindowOptions & { by?: string }>(async (ctx, opts) => {
      if (opts.by !== undefined && opts.by !== 'day' && opts.by !== 'month')
        throw usageError(`--by is day or month, not ${opts.by}`);
      const s = await ctx.api.get<Summary>('/payment-summary', {
        ...windowQuery(opts),
        by: opts.by ?? 'day',
      });
      const columns: [string, (f: Figures) => string][] = [
        ['PAYMENTS', (f) => String(f.payments)],
        ['SUCCEEDED', (f) => String(f.succeeded)],
        ['RATE', (f) => (f.successRate === null ? '-' : `${(f.successRate * 100).toFixed(1)} %`)],
        ['TAKEN', (f) => hkd(f.captured)],
        ['REFUNDS', (f) => String(f.refunds)],
        ['REFUNDED', (f) => hkd(f.refunded)],
      ];
      ctx.print(s, () => {
        const head = `${s.from} to ${s.to}`;
        if (s.services.length === 0) return `${head}: no payments`;
        const services = table(
          [...s.services, { department: 'all', service: '', ...s.totals }],
          [['SERVICE', (x) => (x.service ? `${x.department}/${x.service}` : 'total')], ...columns],
        );
        const periods = opts.by
          ? `\n\n${table(
              s.periods.filter((p) => p.payments + p.refunds > 0),
              [[opts.by.toUpperCase(), (p) => p.period], ...columns],
            )}`
          : '';
        return `${head}\n${services}${periods}`;
      });
    }),
  );

  windowOptions(
    payments
      .command('report')
      .description(
        'the payments and refunds made in a period, as CSV (RFC 4180) on standard output, amounts in cents',
      ),
  ).action(
    act<WindowOptions>(async (ctx, opts) => {
      if (ctx.json) throw usageError('the report is CSV: leave out --json');
      const body = await ctx.api.stream('/payment-report', windowQuery(opts), AbortSignal.timeout(120_000));
      for await (const chunk of body) process.stdout.write(chunk);
    }),
  );

  payments
    .command('sandbox')
    .description('run the sandbox payment provider (GOVHOST_SANDBOX_* settings, docs/payments.md)')
    .action(async () => {
      const { runSandbox } = await import('../../payments/sandbox/main.ts');
      // Only a wrong setting fails here: said as one line, never a stack.
      await runSandbox().catch((err: Error) => {
        throw usageError(err.message);
      });
    });
}
