import type { Command } from 'commander';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { table } from '../output.ts';

interface Throttle {
  kind: 'user' | 'address';
  subject: string;
  state: 'locked' | 'delayed' | 'counting';
  failures: number;
  lastFailureAt: string;
  blockedUntil: string | null;
  lockedUntil: string | null;
}

// To the second: a delay of a few seconds would vanish in a time cut to the minute.
const at = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : null);

/** `govhost sign-ins ...`: failed password sign-ins, delays and locks (operators). */
export function registerSignInCommands(program: Command): void {
  const signIns = program.command('sign-ins').description('failed password sign-ins and locks (operators)');

  signIns
    .command('list')
    .description('locked user names and addresses, and those with failed passwords in the last 15 minutes')
    .action(
      act(async (ctx) => {
        const res = await ctx.api.get<{ items: Throttle[] }>('/sign-in/throttles');
        ctx.print(res, () =>
          res.items.length === 0
            ? 'no failed sign-ins in the last 15 minutes'
            : table(res.items, [
                ['kind', (r) => r.kind],
                ['subject', (r) => r.subject],
                ['state', (r) => r.state],
                ['failures', (r) => r.failures],
                ['last failure', (r) => at(r.lastFailureAt)],
                ['until', (r) => at(r.state === 'locked' ? r.lockedUntil : r.blockedUntil)],
              ]),
        );
      }),
    );

  signIns
    .command('unlock')
    .description('lift the lock or delay of a user name or an address, and forget its failures')
    .option('--user <name>', 'the user name')
    .option('--address <ip>', 'the client address')
    .action(
      act<{ user?: string; address?: string }>(async (ctx, opts) => {
        if ((opts.user === undefined) === (opts.address === undefined)) {
          throw usageError('give either --user NAME or --address IP');
        }
        const [kind, subject] =
          opts.user !== undefined ? ['user', opts.user] : ['address', opts.address ?? ''];
        const res = await ctx.api.delete<Throttle>(
          `/sign-in/throttles/${kind}/${encodeURIComponent(subject)}`,
        );
        ctx.print(res, () => `Unlocked ${kind} ${subject} (${res.failures} failed sign-ins forgotten).`);
      }),
    );
}
