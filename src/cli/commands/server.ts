import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../../platform/config.ts';
import type { Db } from '../../platform/database.ts';
import { fail } from '../output.ts';

// The platform modules (fastify, PGlite, migrations) take seconds to load; every other command
// only talks HTTP, so they are imported when a command that works on the store runs, not at start.

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
      `    npx govhost login --url ${url} --token ${admin.token}`,
      '  Lost it? Stop the server and run: npx govhost admin reset',
      '',
      '',
    ].join('\n'),
  );
}

/**
 * Runs `work` on the store with the server stopped: the data folder locked (a running server
 * refuses it), the store opened and migrated, then closed and unlocked whatever happens. Any
 * failure is one line on stderr.
 */
async function withStoppedStore(cfg: Config, work: (db: Db) => Promise<void>): Promise<void> {
  const [{ openStore }, { lockDataDir }, { migrateToLatest }] = await Promise.all([
    import('../../server/store.ts'),
    import('../../platform/lockfile.ts'),
    import('../../server/migrations.ts'),
  ]);
  let unlock = () => {};
  try {
    if (!cfg.databaseUrl) unlock = lockDataDir(cfg.dataDir);
  } catch (err) {
    fail((err as Error).message);
  }
  const store = await openStore(cfg);
  try {
    await migrateToLatest(store.db);
    await work(store.db);
  } catch (err) {
    fail((err as Error).message);
  } finally {
    await store.close();
    unlock();
  }
}

/** `govhost server` and `govhost admin reset`: the two commands that work on the store directly. */
export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('run the GovHost platform (API, console) on this machine')
    .action(async () => {
      const cfg = platformConfig();
      const { startPlatform } = await import('../../server/start.ts');
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

  const admin = program.command('admin').description('recovery commands run on the platform host');
  admin
    .command('reset')
    .description(
      'issue a new token for the platform administrator (revokes its old ones); stop the server first',
    )
    .option('--username <name>', 'platform-admin to reset or create', 'admin')
    .action(async (opts: { username: string }) => {
      const cfg = platformConfig();
      const { resetAdmin } = await import('../../tenancy/bootstrap.ts');
      await withStoppedStore(cfg, async (db) => {
        const admin = await resetAdmin(db, opts.username);
        printCredential('GovHost reset its platform administrator.', admin, `http://${cfg.host}:${cfg.port}`);
      });
    });

  admin
    .command('remove-service-users')
    .description(
      "remove this install's service users from the OS (userdel), its network rules and the services' working copies; stop the server first (the next start makes them again)",
    )
    .action(async () => {
      const cfg = platformConfig();
      if (process.getuid?.() !== 0)
        fail('only root makes and removes service users; as another user there are none');
      const [users, nft, workdir] = await Promise.all([
        import('../../runtime/service-users.ts'),
        import('../../runtime/local/nftables.ts'),
        import('../../runtime/workdir.ts'),
      ]);
      await withStoppedStore(cfg, async (db) => {
        const quiet = { info: () => undefined, warn: () => undefined };
        const removed = await new users.ServiceUsers({
          db,
          settings: {
            prefix: cfg.serviceUserPrefix ?? users.defaultUserPrefix(cfg.dataDir),
            owner: users.installOwner(cfg.dataDir),
            uidMin: cfg.serviceUidMin,
            uidMax: cfg.serviceUidMax,
          },
          log: quiet,
        }).removeAll();
        await nft.removeRules(nft.isolationTable(cfg.dataDir)).catch(() => undefined);
        // Files owned by uids that no longer exist would go to whoever gets those ids next.
        const apps = await workdir.resolveAppsDir(cfg.dataDir, cfg.appsDir);
        await rm(apps.dir, { recursive: true, force: true });
        process.stdout.write(`removed ${removed} service user(s), the network rules and ${apps.dir}\n`);
      });
    });
}
