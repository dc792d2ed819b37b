import { sql } from 'kysely';
import pg from 'pg';
import type { Executor } from './database.ts';

/** Tells the listeners of `channel` (on any replica) that something changed; PostgreSQL only. */
export async function notify(db: Executor, channel: string): Promise<void> {
  await sql`select pg_notify(${channel}, '')`.execute(db);
}

/**
 * Calls `onNotify` on each notification of `channel`, on a connection of its own that is opened
 * again (every second, until it is) when it drops. A missed notification is only a delay: every
 * listener also polls the store, on a bounded interval, for what it would have been told.
 * Returns how to stop listening.
 */
export function listen(
  url: string,
  channel: string,
  onNotify: () => void,
  log: { warn(obj: object, msg: string): void },
): () => Promise<void> {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', () => onNotify());
    c.on('error', (err) => {
      log.warn({ channel, err: err.message }, 'notification connection lost; polling until it is back');
      c.end().catch(() => undefined);
      if (client === c) client = null;
      if (!stopped) retry = setTimeout(connect, 1_000);
    });
    try {
      await c.connect();
      await c.query(`listen ${pg.escapeIdentifier(channel)}`);
      if (stopped) return void (await c.end());
      client = c;
      // What happened while no one listened is read by the poll; a call now shortens that wait.
      onNotify();
    } catch (err) {
      log.warn({ channel, err: (err as Error).message }, 'cannot listen for notifications; polling');
      await c.end().catch(() => undefined);
      if (!stopped) retry = setTimeout(connect, 1_000);
    }
  };
  void connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}
