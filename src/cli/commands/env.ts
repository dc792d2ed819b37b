import type { Command } from 'commander';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { table } from '../output.ts';
import { follow } from './deploy.ts';
import { resolveRef } from './services.ts';

interface Variable {
  key: string;
  value: string;
  secret: boolean;
}

/** `KEY=VALUE` pairs from the command line. */
function pairs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw usageError(`expected KEY=VALUE, got ${JSON.stringify(a)}`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

/** `govhost env list|set|unset`. */
export function registerEnvCommands(program: Command): void {
  const env = program.command('env').description("a service's environment variables");

  env
    .command('list')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .description('list variables (secrets masked)')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        const { items } = await ctx.api.get<{ items: Variable[] }>(`${service.path}/env`);
        ctx.print(items, () =>
          items.length === 0
            ? 'no variables set'
            : table(items, [
                ['key', (v) => v.key],
                ['value', (v) => v.value],
                ['secret', (v) => (v.secret ? 'yes' : '')],
              ]),
        );
      }),
    );

  const change = async (ctx: Parameters<Parameters<typeof act>[0]>[0], ref: string, body: object) => {
    const service = await resolveRef(ctx.api, ref);
    const res = await ctx.api.patch<{
      variables: Variable[];
      deployment: {
        id: string;
        state: 'running';
        message: string;
        kind: string;
        release: number | null;
      } | null;
    }>(`${service.path}/env`, body);
    if (res.deployment) {
      ctx.note(`rolling out a new release of ${service.name} with the new environment`);
      await follow(ctx, ctx.api, service.path, res.deployment);
    }
    ctx.print(res, () => `${service.name}: ${res.variables.length} variable(s) set`);
  };

  env
    .command('set')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .argument('<pairs...>', 'KEY=VALUE ...')
    .option('--secret', 'store the values encrypted and never show them again')
    .description('set variables; a deployed service restarts with them in a new release')
    .action(
      act<{ secret?: boolean }>(async (ctx, opts, ref, ...rest) => {
        const list = (rest.flat() as string[]).filter(Boolean);
        await change(ctx, ref as string, { set: pairs(list), secret: opts.secret === true });
      }),
    );

  env
    .command('unset')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .argument('<keys...>', 'KEY ...')
    .description('remove variables; a deployed service restarts without them in a new release')
    .action(
      act(async (ctx, _opts, ref, ...rest) => {
        await change(ctx, ref as string, { unset: (rest.flat() as string[]).filter(Boolean) });
      }),
    );
}
