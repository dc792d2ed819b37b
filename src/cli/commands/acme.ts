import type { Command } from 'commander';
import { act } from '../context.ts';
import { table } from '../output.ts';

interface AcmeOrder {
  hostname: string;
  state: 'pending' | 'valid' | 'failed';
  notAfter: string | null;
  lastError: string | null;
  failures: number;
  nextAttemptAt: string | null;
}

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : null);
const at = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : null);

/** `govhost acme status`: certificates issued through ACME (operators). */
export function registerAcmeCommands(program: Command): void {
  const acme = program
    .command('acme')
    .description('certificates issued and renewed through ACME (operators)');

  acme
    .command('status')
    .description('each host with an ACME certificate: state, expiry, last error and next attempt')
    .action(
      act(async (ctx) => {
        const res = await ctx.api.get<{ enabled: boolean; items: AcmeOrder[] }>('/acme/orders');
        ctx.print(res, () => {
          const off = res.enabled ? '' : 'ACME is off (GOVHOST_ACME_DIRECTORY_URL is not set).\n';
          if (res.items.length === 0) return `${off}no host has an ACME certificate yet`;
          return `${off}${table(res.items, [
            ['host', (r) => r.hostname],
            ['state', (r) => r.state],
            ['expires', (r) => day(r.notAfter)],
            ['failures', (r) => r.failures],
            ['next attempt', (r) => at(r.nextAttemptAt)],
            ['last error', (r) => r.lastError],
          ])}`;
        });
      }),
    );
}
