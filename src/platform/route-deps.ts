import type { Config } from './config.ts';
import type { Db } from './database.ts';

/**
 * What every capability's route plugin is given. A plugin that needs more (the runtime, the
 * monitoring engine) declares it in its own capability; the composition root (`src/server/`)
 * gives each plugin the whole set.
 */
export interface RouteDeps {
  db: Db;
  config: Config;
}
