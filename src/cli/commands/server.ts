import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../platform/config.ts';
import { fail } from '../output.ts';

// The platform modules (fastify, PGlite, migrations) take seconds to load; every other command
// only talks HTTP, so they are imported when one of these two commands runs, not at start.

export function platformConfig() {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
}

function printCredential(title: string, admin: { username: string; token: string }, url: string) {
  // Straight to the terminal, not through the logger: the secret must not land in log files.
  process.stdout.write(
    [
      '',
      `  ${title}`,
      `    user:  ${admin.username}`,
      `    token: ${admin.token}`,
      '  This token is shown once and never again. Sign in the CLI with:',
      `    govhost login --url ${url} --token ${admin.token}`,
      '  Lost it? Stop the server and run: govhost admin reset',
      '',
      '',
    ].join('\n'),
  );
}

/** `govhost server` and `govhost admin reset`: the two commands that work on the store directly. */
export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('run the GovHost platform (API, console) on this machine')
    .action(async () => {
      const cfg = platformConfig();
      const { startPlatform } = await import('../../platform/server.ts');
      const platform = await startPlatform(cfg, {
        onFirstAdmin: (admin, url) =>
          printCredential('First start: GovHost created its platform administrator.', admin, url),
      }).catch((err: Error) => fail(`cannot start: ${err.message}`));
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) process.exit(1);
        stopping = true;
        platform.app.log.info({ signal }, 'stopping');
        try {
          await platform.close();
        } catch {
          // Already logged step by step; the exit code tells a supervisor the stop was not clean.
          process.exit(1);
        }
        platform.app.log.info('stopped');
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });

  program
    .command('admin')
    .description('recovery commands run on the platform host')
    .command('reset')
    .description(
      'issue a new token for the platform administrator (revokes its old ones); stop the server first',
    )
    .option('--username <name>', 'platform-admin to reset or create', 'admin')
    .action(async (opts: { username: string }) => {
      const cfg = platformConfig();
      const [{ openDatabase }, { lockDataDir }, { migrateToLatest }, { resetAdmin }] = await Promise.all([
        import('../../platform/database.ts'),
        import('../../platform/lockfile.ts'),
        import('../../platform/migrations.ts'),
        import('../../tenancy/bootstrap.ts'),
      ]);
      let unlock = () => {};
      try {
        if (!cfg.databaseUrl) unlock = lockDataDir(cfg.dataDir);
      } catch (err) {
        fail((err as Error).message);
      }
      const store = await openDatabase(cfg);
      try {
        await migrateToLatest(store.db);
        const admin = await resetAdmin(store.db, opts.username);
        printCredential('GovHost reset its platform administrator.', admin, `http://${cfg.host}:${cfg.port}`);
      } catch (err) {
        fail((err as Error).message);
      } finally {
        await store.close();
        unlock();
      }
    });
}
