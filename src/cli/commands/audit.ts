import { type Command, Option } from 'commander';
import { act } from '../context.ts';
import { CliError } from '../errors.ts';
import { integer } from '../options.ts';
import { table, when } from '../output.ts';

interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  department: string | null;
  action: string;
  targetType: string;
  targetId: string;
}

interface Verify {
  ok: boolean;
  records: number;
  headHash?: string;
  headSeq?: number;
  brokenAtSeq?: number | null;
  reason?: string;
}

/** `govhost audit ...`: the hash-chained record of every change. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit trail of every change');

  audit
    .command('list')
    .description("audit records, newest first (a dept-admin sees its department's)")
    .addOption(new Option('--limit <n>', 'records to show, 1-500 (default 50)').argParser(integer(1, 500)))
    .addOption(
      new Option('--before <seq>', 'only records older than this sequence number').argParser(
        integer(1, Number.MAX_SAFE_INTEGER),
      ),
    )
    .option('--action <action>', 'an action (service.scale) or a family ending in a dot (service.)')
    .option('--actor <user>', "only this user's changes")
    .option('--department <code>', "only this department's records")
    .option('--target <id>', 'only changes to this target, e.g. IRD/etax')
    .option('--since <iso>', 'records at or after this time (ISO 8601)')
    .option('--until <iso>', 'records before this time (ISO 8601)')
    .action(
      act<{
        limit?: number;
        before?: number;
        action?: string;
        actor?: string;
        department?: string;
        target?: string;
        since?: string;
        until?: string;
      }>(async (ctx, opts) => {
        const res = await ctx.api.get<{ items: AuditRecord[]; nextBefore: number | null }>('/audit', opts);
        ctx.print(res, () =>
          res.items.length === 0
            ? 'no audit records'
            : table(res.items, [
                ['seq', (r) => r.seq],
                ['at', (r) => when(r.at)],
                ['actor', (r) => r.actor],
                ['department', (r) => r.department],
                ['action', (r) => r.action],
                ['target', (r) => `${r.targetType} ${r.targetId}`],
              ]),
        );
        if (res.nextBefore !== null) ctx.note(`older records: --before ${res.nextBefore}`);
      }),
    );

  audit
    .command('anchor')
    .description("print the chain's current head (seq:mac): keep it outside the database for verify --anchor")
    .action(
      act(async (ctx) => {
        const res = await ctx.api.get<{ seq: number; mac: string; anchor: string }>('/audit/anchor');
        ctx.print(res, () => res.anchor);
      }),
    );

  audit
    .command('verify')
    .description('re-compute the keyed chain; exits 1 if a record was changed or removed')
    .option(
      '--anchor <seq:mac>',
      'a head printed earlier by audit anchor: it must still be in the chain unchanged',
    )
    .action(
      act<{ anchor?: string }>(async (ctx, opts) => {
        // The server re-computes every record: on a long trail that takes far longer than a normal request.
        const res = await ctx.api.post<Verify>('/audit/verify', undefined, 15 * 60_000, {
          anchor: opts.anchor,
        });
        if (res.ok) {
          const anchored = opts.anchor === undefined ? '' : ', anchor found unchanged';
          ctx.print(
            res,
            () =>
              `Audit chain intact: ${res.records} records checked${anchored}, head ${res.headSeq}:${res.headHash}.`,
          );
          return;
        }
        if (ctx.json) ctx.print(res, () => '');
        const where =
          res.brokenAtSeq === null || res.brokenAtSeq === undefined ? '' : ` at seq ${res.brokenAtSeq}`;
        throw new CliError(
          `audit chain broken${where}: ${res.reason ?? 'no reason given'}; ${res.records} earlier records are intact`,
        );
      }),
    );
}
