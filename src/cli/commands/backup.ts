import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { act } from '../context.ts';
import { CliError } from '../errors.ts';
import { fail } from '../output.ts';
import { platformConfig } from './server.ts';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** `govhost backup FILE` (through the API, while the platform runs) and `govhost restore FILE` (on the host). */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('save a consistent backup of the running platform (store, bundles, keys) to FILE')
    .argument('<file>', 'where to write the archive (a .tar.gz); it holds secret keys')
    .action(
      act(async (ctx, _opts, file) => {
        const target = resolve(file as string);
        // Written beside the target and renamed when whole: a failed backup never looks like one.
        const temp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.part`);
        const body = await ctx.api.stream('/backup', {}, AbortSignal.timeout(60 * 60_000));
        try {
          await pipeline(
            Readable.fromWeb(body as WebReadableStream<Uint8Array>),
            createWriteStream(temp, { mode: 0o600, flags: 'wx' }),
          );
          await rename(temp, target);
        } catch (err) {
          await rm(temp, { force: true });
          throw new CliError(`the backup did not complete: ${(err as Error).message}`);
        }
        const size = (await stat(target)).size;
        ctx.print({ file: target, bytes: size }, () => `Backup written to ${target} (${mib(size)}).`);
        ctx.note(
          'It holds the platform’s keys: keep it as you keep them (readable by you alone: mode 0600).',
        );
      }),
    );

  program
    .command('restore')
    .description(
      'restore a backup into an empty data folder (GOVHOST_DATA_DIR) or PostgreSQL database (DATABASE_URL)',
    )
    .argument('<file>', 'an archive written by govhost backup')
    .action(async (file: string) => {
      const cfg = platformConfig();
      const [
        { restoreBackup, RestoreError },
        { lockDataDir },
        { openStore },
        { migrateToLatest },
        { verifyChain },
      ] = await Promise.all([
        import('../../backup/backup.logic.ts'),
        import('../../platform/lockfile.ts'),
        import('../../server/store.ts'),
        import('../../server/migrations.ts'),
        import('../../audit/audit.logic.ts'),
      ]);
      let unlock = () => {};
      try {
        await stat(file);
        await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
        unlock = lockDataDir(cfg.dataDir);
      } catch (err) {
        fail((err as Error).message);
      }
      try {
        const manifest = await restoreBackup({
          archive: resolve(file),
          dataDir: cfg.dataDir,
          databaseUrl: cfg.databaseUrl,
        });
        const store = await openStore(cfg);
        try {
          await migrateToLatest(store.db);
          const chain = await verifyChain(store.db);
          const bundles = manifest.files.filter((f) => f.path.startsWith('bundles/')).length;
          process.stdout.write(
            [
              `Restored the backup of ${manifest.createdAt} into ${cfg.databaseUrl ? 'the PostgreSQL database' : cfg.dataDir}:`,
              `  the store, ${bundles} bundle${bundles === 1 ? '' : 's'}, keys: ${manifest.secret.map((k) => k.replace('keys/', '')).join(', ') || 'none (given in the environment)'}`,
              chain.ok
                ? `  audit chain verified (${chain.records} records)`
                : `  AUDIT CHAIN BROKEN at record ${chain.brokenAtSeq ?? '?'}: ${chain.reason ?? ''}`,
              '  Start the platform with: govhost server',
              '',
            ].join('\n'),
          );
          if (!chain.ok) process.exitCode = 1;
        } finally {
          await store.close();
        }
      } catch (err) {
        if (err instanceof RestoreError) fail(err.message);
        throw err;
      } finally {
        unlock();
      }
    });
}
