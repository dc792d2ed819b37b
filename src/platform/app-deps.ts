import type { Config } from './config.ts';
import type { Db } from './database.ts';

/** What route plugins are given: the composition root builds it once. */
export interface AppDeps {
  db: Db;
  config: Config;
}
