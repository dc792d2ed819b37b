import { type Command, Option } from 'commander';
import { act } from '../context.ts';
import { integer } from '../options.ts';
import { record, table, when } from '../output.ts';

interface Token {
  id: string;
  name: string;
  user: string;
  kind: string;
  scope: string;
  prefix: string;
  state: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const show = (t: Token) =>
  record([
    ['id', t.id],
    ['name', t.name],
    ['user', t.user],
    ['scope', t.scope],
    ['state', t.state],
    ['expires', when(t.expiresAt)],
    ['revoked', when(t.revokedAt)],
  ]);

/** `govhost tokens ...`: API tokens for scripts, pipelines and the CLI itself. */
export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('API tokens');

  tokens
    .command('list')
    .description("list your tokens, or (admins) another user's")
    .option('--user <user>', 'whose tokens (default: yours)')
    .action(
      act<{ user?: string }>(async (ctx, opts) => {
        const res = await ctx.api.get<{ items: Token[] }>('/tokens', { user: opts.user });
        ctx.print(res, () =>
          res.items.length === 0
            ? 'no tokens'
            : table(res.items, [
                ['id', (t) => t.id],
                ['name', (t) => t.name],
                ['user', (t) => t.user],
                ['kind', (t) => t.kind],
                ['scope', (t) => t.scope],
                ['state', (t) => t.state],
                ['prefix', (t) => t.prefix],
                ['expires', (t) => when(t.expiresAt)],
                ['last used', (t) => when(t.lastUsedAt)],
              ]),
        );
      }),
    );

  tokens
    .command('create')
    .description('create an API token; its secret is printed this once')
    .argument('<name>', 'what the token is for, e.g. "deploy pipeline"')
    .addOption(new Option('--scope <scope>', 'read-only or read-write').choices(['read', 'write']))
    .addOption(
      new Option('--expires-in-days <n>', 'lifetime, 1-365 days (default 90)').argParser(integer(1, 365)),
    )
    .option('--user <user>', 'for another user (admins; default: yourself)')
    .action(
      act<{ scope?: string; expiresInDays?: number; user?: string }>(async (ctx, opts, name) => {
        const res = await ctx.api.post<{ token: Token; secret: string }>('/tokens', { name, ...opts });
        ctx.print(res, () =>
          [
            show(res.token),
            '',
            `secret: ${res.secret}`,
            'This secret will not be shown again: store it now, e.g. in your pipeline as GOVHOST_TOKEN.',
          ].join('\n'),
        );
      }),
    );

  tokens
    .command('create-router')
    .description(
      'create a token for a router that follows the control plane: it reads the route table and nothing else (platform admins)',
    )
    .argument('<name>', 'the router, e.g. edge-1 (its user is router-<name>)')
    .addOption(
      new Option('--expires-in-days <n>', 'lifetime, 1-365 days (default 365)').argParser(integer(1, 365)),
    )
    .action(
      act<{ expiresInDays?: number }>(async (ctx, opts, name) => {
        const res = await ctx.api.post<{ token: Token; secret: string }>('/tokens/router', { name, ...opts });
        ctx.print(res, () =>
          [
            show(res.token),
            '',
            `secret: ${res.secret}`,
            'This secret will not be shown again: give it to the router as GOVHOST_ROUTER_CONTROL_PLANE_TOKEN.',
          ].join('\n'),
        );
      }),
    );

  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'token id, from govhost tokens list')
    .action(
      act(async (ctx, _opts, id) => {
        const t = await ctx.api.delete<Token>(`/tokens/${encodeURIComponent(id)}`);
        ctx.print(t, () => `Revoked token ${t.name} (${t.id}) of ${t.user}.`);
      }),
    );
}
