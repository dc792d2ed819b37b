import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ApiClient } from '../client.ts';
import { act, type Ctx } from '../context.ts';
import { CliError } from '../errors.ts';
import { integer } from '../options.ts';
import { table, when } from '../output.ts';
import { progressBar } from '../progress.ts';
import { resolveRef } from './services.ts';

interface Deployment {
  id: string;
  kind: string;
  state: 'running' | 'succeeded' | 'failed';
  message: string;
  release: number | null;
}

interface Release {
  version: number;
  status: string;
  kind: string;
  description: string;
  instances: number;
  memoryMb: number;
  failureReason: string | null;
  createdBy: string;
  createdAt: string;
}

const FOLLOW_LIMIT_MS = 15 * 60_000;

// Deployment messages and failure reasons can quote what an app logged: no control character
// from there may reach the terminal, and a table cell or an error stays on one line.
const clean = (line: string) => line.replace(/\p{Cc}+/gu, ' ').trimEnd();
const oneLine = (text: string) => clean(text.replace(/\s*\n\s*/g, ' ')).trim();

interface StagingLog {
  text: string;
  nextOffset: number;
}

/**
 * Polls a deployment, printing each new message (and, for a deploy, the staging's output as it
 * comes), until it ends; fails the command if it failed.
 */
export async function follow(
  ctx: Ctx,
  api: ApiClient,
  servicePath: string,
  first: Deployment,
  stagingOf?: number,
): Promise<Deployment> {
  let d = first;
  let said = '';
  let offset = 0;
  const deadline = Date.now() + FOLLOW_LIMIT_MS;
  const staging = async () => {
    if (stagingOf === undefined) return;
    const log = await api
      .get<StagingLog>(`${servicePath}/staging-log`, { release: stagingOf, offset })
      .catch(() => null);
    if (!log || log.text === '') return;
    offset = log.nextOffset;
    ctx.note(
      log.text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => `  ${clean(l)}`)
        .join('\n'),
    );
  };
  for (;;) {
    await staging();
    // A failure is said once, as the error line below.
    if (d.message !== said && d.state !== 'failed') {
      ctx.note(
        d.message
          .split('\n')
          .map((l) => `  ${clean(l)}`)
          .join('\n'),
      );
      said = d.message;
    }
    if (d.state !== 'running') break;
    if (Date.now() > deadline)
      throw new CliError(`still running after 15 minutes; check later with govhost status`);
    await new Promise((r) => setTimeout(r, 250));
    d = await api.get<Deployment>(`${servicePath}/deployments/${d.id}`);
  }
  // What the staging printed after the last poll.
  await staging();
  // The message may quote the app's last log lines: an error stays one line, whatever they hold.
  if (d.state === 'failed') throw new CliError(oneLine(d.message));
  return d;
}

/** `govhost deploy`, `rollback` and `releases`. */
export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description('pack a folder (honouring .govhostignore), upload it and follow the rollout')
    .argument('[dir]', 'the app folder', '.')
    .requiredOption('-s, --service <ref>', 'service as DEPT/slug, or slug in your department')
    .option('--no-follow', 'return once uploaded, without waiting for the rollout')
    .option('--no-cache', 'install dependencies afresh (the dependency cache is refreshed, not read)')
    .action(
      act<{ service: string; follow: boolean; cache: boolean }>(async (ctx, opts, dir) => {
        const service = await resolveRef(ctx.api, opts.service);
        // tar and ignore load only when a deploy runs: every other command starts without them.
        const { packBundle } = await import('../pack.ts');
        const packed = await packBundle(dir ?? '.');
        try {
          ctx.note(`packed ${packed.files} files from ${dir} (${packed.bytes} bytes)`);
          const bar = progressBar(`uploading to ${service.name}`, packed.bytes);
          const res = await ctx.api
            .upload<{ deployment: Deployment; release: Release; builder: string; warnings: string[] }>(
              `${service.path}/deployments${opts.cache ? '' : '?noCache=true'}`,
              packed.path,
              packed.bytes,
              (n) => bar.update(n),
            )
            .catch((err: unknown) => {
              bar.abandon();
              throw err;
            });
          bar.finish();
          for (const w of res.warnings) ctx.note(`warning: ${w}`);
          ctx.note(`release v${res.release.version} of ${service.name}; builder ${res.builder}`);
          const done = opts.follow
            ? await follow(ctx, ctx.api, service.path, res.deployment, res.release.version)
            : res.deployment;
          ctx.print({ ...res, deployment: done }, () =>
            done.state === 'succeeded'
              ? `${service.name} v${res.release.version} is live`
              : `deployment ${done.id} ${done.state}`,
          );
        } finally {
          await rm(packed.path, { force: true });
        }
      }),
    );

  program
    .command('rollback')
    .description('roll a service back, code and configuration, to an earlier release')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .option('--to <version>', 'release version (default: the one before the current)', integer(1, 1_000_000))
    .action(
      act<{ to?: number }>(async (ctx, opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        const res = await ctx.api.post<{ deployment: Deployment; release: Release }>(
          `${service.path}/rollback`,
          {
            ...(opts.to ? { to: opts.to } : {}),
          },
        );
        ctx.note(`rolling ${service.name} back: ${res.release.description} as v${res.release.version}`);
        const done = await follow(ctx, ctx.api, service.path, res.deployment);
        ctx.print({ ...res, deployment: done }, () => `${service.name} v${res.release.version} is live`);
      }),
    );

  program
    .command('releases')
    .description('release history of a service, newest first')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        const { items } = await ctx.api.get<{ items: Release[] }>(`${service.path}/releases`);
        ctx.print(items, () =>
          table(items, [
            ['version', (r) => `v${r.version}`],
            ['status', (r) => r.status],
            ['kind', (r) => r.kind],
            ['description', (r) => r.description],
            ['by', (r) => r.createdBy],
            ['created', (r) => when(r.createdAt)],
            [
              'reason',
              (r) => (r.failureReason === null ? null : clean(r.failureReason.split('\n')[0] ?? '')),
            ],
          ]),
        );
      }),
    );
}
