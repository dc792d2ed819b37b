import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { readSecretFromStdin } from '../options.ts';
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

/**
 * The one KEY whose value comes from standard input or a file. A value on the command line is
 * refused: any local user sees it in `ps` while the command runs, and it stays in shell history.
 */
function oneKey(args: string[], secret: boolean): string {
  const withValue = args.find((a) => a.includes('='));
  if (withValue !== undefined) {
    const key = withValue.slice(0, withValue.indexOf('=')) || 'KEY';
    throw usageError(
      `${secret ? 'a secret value' : 'a value'} on the command line shows in ps and shell history, so it was not sent: ` +
        `give only the key and pass the value on standard input (govhost env set SERVICE ${key} --secret < file, ` +
        `or printf '%s' "$VALUE" | govhost env set SERVICE ${key} --secret) or with --from-file FILE`,
    );
  }
  const [key, ...more] = args;
  if (key === undefined || more.length > 0) {
    throw usageError('with --secret or --from-file, give exactly one KEY: its value is read, not typed');
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
    throw usageError(`${JSON.stringify(key)} is not a variable name`);
  return key;
}

/** The value from `file`, else from standard input; one final line break dropped, as `echo` adds it. */
async function readValue(file: string | undefined): Promise<string> {
  if (file === undefined) {
    if (process.stdin.isTTY) process.stderr.write('type the value, then Ctrl-D on an empty line:\n');
    return readSecretFromStdin('--secret');
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw usageError(`${file} is empty`);
  return value;
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
    .argument('<pairs...>', 'KEY=VALUE ...; with --secret or --from-file only KEY')
    .option('--secret', 'store the value encrypted and never show it again; read from standard input')
    .option('--from-file <file>', "read KEY's value from this file (one final line break dropped)")
    .description('set variables; a deployed service restarts with them in a new release')
    .action(
      act<{ secret?: boolean; fromFile?: string }>(async (ctx, opts, ref, ...rest) => {
        const list = (rest.flat() as string[]).filter(Boolean);
        const secret = opts.secret === true;
        // Checked before any request: a refused secret is never sent anywhere.
        const set =
          secret || opts.fromFile !== undefined
            ? { [oneKey(list, secret)]: await readValue(opts.fromFile) }
            : pairs(list);
        await change(ctx, ref as string, { set, secret });
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
