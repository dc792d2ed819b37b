import type { FastifyInstance } from 'fastify';
import { bootstrapAdmin } from '../tenancy/bootstrap.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { openDatabase } from './database.ts';
import { lockDataDir } from './lockfile.ts';
import { migrateToLatest } from './migrations.ts';

export interface RunningPlatform {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Opens the store, migrates it, creates the first admin if there is none, and listens. */
export async function startPlatform(
  config: Config,
  opts: {
    onFirstAdmin?: (admin: { username: string; token: string }, url: string) => void;
    logger?: boolean;
  } = {},
): Promise<RunningPlatform> {
  const unlock = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  try {
    const store = await openDatabase(config);
    try {
      await migrateToLatest(store.db);
      const admin = await bootstrapAdmin(store.db);
      const app = await buildApp(
        { db: store.db, config },
        opts.logger === undefined ? {} : { logger: opts.logger },
      );
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `http://${host}:${port}`;
      app.log.info({ url, store: store.kind, dataDir: config.dataDir }, 'GovHost is ready');
      if (admin) opts.onFirstAdmin?.(admin, url);
      return {
        app,
        url,
        close: async () => {
          await app.close();
          await store.close();
          unlock();
        },
      };
    } catch (err) {
      await store.close();
      throw err;
    }
  } catch (err) {
    unlock();
    throw err;
  }
}
