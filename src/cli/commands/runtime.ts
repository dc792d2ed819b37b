import type { Command } from 'commander';
import { act } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { integer } from '../options.ts';
import { record, table, when } from '../output.ts';
import { follow } from './deploy.ts';
import { resolveRef } from './services.ts';

interface Instance {
  instanceId: string;
  state: string;
  serving: boolean;
  pid: number | null;
  port: number;
  restarts: number;
  release: number | null;
  memoryBytes: number | null;
  limits: { memory: boolean; cpu: boolean; reason: string | null };
  lastExit: { code: number | null; signal: string | null; at: string } | null;
}

interface Status {
  service: string;
  hostname: string;
  url: string;
  desired: { instances: number; memoryMb: number };
  release: { version: number; status: string; kind: string } | null;
  lastDeployment: { kind: string; state: string; message: string } | null;
  instances: Instance[];
  runAs: { name: string; uid: number } | null;
  /** Absent from platforms older than the isolation work. */
  isolation?: {
    network: { enforced: boolean; reason: string | null };
    users: { enforced: boolean; reason: string | null };
  };
}

/** `256M`, `1G`, `512MB` or a plain number of MiB. */
export function parseMemory(raw: string): number {
  const m = /^(\d+)\s*(M|MB|G|GB)?$/i.exec(raw.trim());
  if (!m) throw usageError(`--memory must look like 256M or 1G, got ${JSON.stringify(raw)}`);
  const n = Number(m[1]) * (m[2]?.toUpperCase().startsWith('G') ? 1024 : 1);
  if (n < 16 || n > 16384) throw usageError('--memory must be from 16M to 16G');
  return n;
}

/** The first line of a message the server wrote, without control characters from an app's logs. */
const firstLine = (text: string) => (text.split('\n')[0] ?? '').replace(/\p{Cc}+/gu, ' ').trimEnd();

const mib = (b: number | null) => (b === null ? null : `${Math.round(b / 1024 / 1024)}M`);

/** `govhost scale`, `status` and `logs`. */
export function registerRuntimeCommands(program: Command): void {
  program
    .command('scale')
    .description('change the number of instances and/or the memory of each')
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .option('-i, --instances <n>', 'number of instances', integer(0, 100))
    .option('-m, --memory <size>', 'memory per instance, e.g. 256M or 1G')
    .action(
      act<{ instances?: number; memory?: string }>(async (ctx, opts, ref) => {
        if (opts.instances === undefined && opts.memory === undefined)
          throw usageError('give --instances and/or --memory');
        const service = await resolveRef(ctx.api, ref as string);
        const body = {
          ...(opts.instances !== undefined ? { instances: opts.instances } : {}),
          ...(opts.memory !== undefined ? { memoryMb: parseMemory(opts.memory) } : {}),
        };
        const started = await ctx.api.post<{
          id: string;
          state: 'running';
          message: string;
          kind: string;
          release: number | null;
        }>(`${service.path}/scale`, body);
        const done = await follow(ctx, ctx.api, service.path, started);
        ctx.print(done, () => `${service.name}: ${done.message}`);
      }),
    );

  program
    .command('status')
    .description("a service's instances, release, health and restarts")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .action(
      act(async (ctx, _opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        const s = await ctx.api.get<Status>(`${service.path}/status`);
        ctx.print(s, () => {
          const limits = s.instances[0]?.limits;
          const head = record([
            ['service', s.service],
            ['url', s.url],
            [
              'release',
              s.release ? `v${s.release.version} (${s.release.kind}, ${s.release.status})` : 'none deployed',
            ],
            ['desired', `${s.desired.instances} x ${s.desired.memoryMb}M`],
            // The first line only: a failed rollout's message goes on with the app's last log lines.
            [
              'last change',
              s.lastDeployment
                ? firstLine(`${s.lastDeployment.kind} ${s.lastDeployment.state}: ${s.lastDeployment.message}`)
                : null,
            ],
            [
              'limits',
              limits ? (limits.memory ? 'enforced (cgroups)' : `not enforced: ${limits.reason}`) : null,
            ],
            [
              'runs as',
              s.runAs ? `${s.runAs.name} (uid ${s.runAs.uid})` : (s.isolation?.users.reason ?? null),
            ],
            [
              'network isolation',
              s.isolation
                ? s.isolation.network.enforced
                  ? 'enforced (nftables)'
                  : `not enforced (${s.isolation.network.reason})`
                : null,
            ],
          ]);
          if (s.instances.length === 0) return `${head}\n\nno instances running`;
          const rows = table(s.instances, [
            ['instance', (i) => i.instanceId],
            ['state', (i) => i.state],
            ['serving', (i) => (i.serving ? 'yes' : 'no')],
            ['release', (i) => (i.release ? `v${i.release}` : null)],
            ['pid', (i) => i.pid],
            ['port', (i) => i.port],
            ['restarts', (i) => i.restarts],
            ['memory', (i) => mib(i.memoryBytes)],
            [
              'last exit',
              (i) =>
                i.lastExit
                  ? `${i.lastExit.signal ?? `code ${i.lastExit.code}`} ${when(i.lastExit.at)}`
                  : null,
            ],
          ]);
          return `${head}\n\n${rows}`;
        });
      }),
    );

  program
    .command('logs')
    .description("print a service's logs; --follow keeps printing new lines until interrupted")
    .argument('<service>', 'DEPT/slug, or slug in your department')
    .option('-n, --tail <lines>', 'lines per instance to start with', integer(0, 10000), 100)
    .option('-f, --follow', 'keep printing new lines')
    .option('--staging', "the staging (build) output of a release instead of the instances' logs")
    .option(
      '--release <version>',
      'with --staging: that release (default: the latest)',
      integer(1, 1_000_000),
    )
    .action(
      act<{ tail: number; follow?: boolean; staging?: boolean; release?: number }>(async (ctx, opts, ref) => {
        const service = await resolveRef(ctx.api, ref as string);
        if (opts.release !== undefined && !opts.staging) throw new CliError('--release goes with --staging');
        if (opts.staging) {
          let offset = 0;
          for (;;) {
            const log = await ctx.api.get<{
              text: string;
              nextOffset: number;
              staged: boolean;
              release: number;
            }>(`${service.path}/staging-log`, { offset, ...(opts.release ? { release: opts.release } : {}) });
            if (!log.staged)
              throw new CliError(`release v${log.release} of ${service.name} has no staging log`);
            process.stdout.write(log.text.replace(/[^\P{Cc}\n\t]/gu, ''));
            if (log.nextOffset === offset) break;
            offset = log.nextOffset;
          }
          return;
        }
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        const body = await ctx.api.stream(
          `${service.path}/logs`,
          { tail: opts.tail, follow: opts.follow === true },
          abort.signal,
        );
        try {
          // Decoded as a stream, so a character split between chunks stays whole; the terminal
          // guard keeps the lines' breaks and tabs and escapes any other control.
          const text = new TextDecoder();
          for await (const chunk of body) process.stdout.write(text.decode(chunk, { stream: true }));
          process.stdout.write(text.decode());
        } catch (err) {
          if (!abort.signal.aborted) throw new CliError(`the log stream broke: ${(err as Error).message}`);
        }
      }),
    );
}
