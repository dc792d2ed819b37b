import type { RunningAlerting } from '../monitoring/alerting.start.ts';
import type { MonitoringEngine } from '../monitoring/engine.ts';
import type { RuntimeDeps } from '../runtime/runtime.logic.ts';
import type { Config } from './config.ts';
import type { DatabaseHandle, Db } from './database.ts';

/** What route plugins are given: the composition root builds it once. */
export interface AppDeps {
  db: Db;
  config: Config;
  /** The store's handle, for backups; absent where a process does not own the store (tests). */
  store?: Pick<DatabaseHandle, 'kind' | 'dump'> | null;
  /** The local runtime, when this process runs one (API-only tests do not). */
  runtime?: RuntimeDeps | null;
  /** The monitoring engine, running beside the runtime. */
  monitoring?: MonitoringEngine | null;
  /** Alerting, when this process evaluates rules: told when an override changes. */
  alerting?: Pick<RunningAlerting, 'reloadRules'> | null;
}
