import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KyselyPlugin } from 'kysely';
import type { Db } from '../platform/database.ts';
import { testDatabase } from '../test-support/database.ts';
import { until } from '../test-support/until.ts';
import * as repo from './lease.repository.ts';
import { type HeldLease, LeaseKeeper, LeaseLost } from './lease.ts';

/** A handle whose queries fail once `cut` is set: a holder that lost the store (or was killed). */
class Cut implements KyselyPlugin {
  cut = false;
  transformQuery: KyselyPlugin['transformQuery'] = (args) => {
    if (this.cut) throw new Error('connection lost (test)');
    return args.node;
  };
  transformResult: KyselyPlugin['transformResult'] = async (args) => args.result;
}

/** A handle whose queries never answer once `hung` is set: a link dropped without a reset. */
class Hang implements KyselyPlugin {
  hung = false;
  private readonly waiting: (() => void)[] = [];
  transformQuery: KyselyPlugin['transformQuery'] = (args) => args.node;
  transformResult: KyselyPlugin['transformResult'] = async (args) => {
    if (this.hung) await new Promise<void>((r) => this.waiting.push(r));
    return args.result;
  };
  /** The link is back: the hung answers arrive. */
  release(): void {
    this.hung = false;
    for (const r of this.waiting.splice(0)) r();
  }
}

const quiet = { info() {}, warn() {}, error() {} };

describe('leases', () => {
  let store: Awaited<ReturnType<typeof testDatabase>>;
  let db: Db;
  before(async () => {
    store = await testDatabase();
    db = store.db;
  });
  after(() => store.close());

  it('is taken by one holder at a time, renewed by it, and lost by it once another takes it', async () => {
    const a = await repo.take(db, 'job-a', 'replica-1', 60_000);
    assert.equal(a?.generation, 1);
    assert.equal(await repo.take(db, 'job-a', 'replica-2', 60_000), null, 'held: another cannot take it');
    assert.equal(await repo.renew(db, a!, 60_000), true);
    // Expired (ttl 0): the next taker gets it with a new generation, and the old holder's renewal fails.
    await db
      .updateTable('leases')
      .set({ expires_at: new Date(0) } as never)
      .where('name', '=', 'job-a')
      .execute();
    const b = await repo.take(db, 'job-a', 'replica-2', 60_000);
    assert.equal(b?.generation, 2);
    assert.equal(
      await repo.renew(db, a!, 60_000),
      false,
      'a holder whose lease changed hands cannot renew it',
    );
    assert.equal(await repo.stillHeld(db, a!), false);
    assert.equal(await repo.stillHeld(db, b!), true);
  });

  it('expires by the database clock when not renewed', async () => {
    const a = await repo.take(db, 'job-b', 'replica-1', 300);
    assert.ok(a);
    const started = Date.now();
    const b = await until('the lease to expire', () => repo.take(db, 'job-b', 'replica-2', 300), 5_000, 25);
    assert.equal(b.generation, 2);
    assert.ok(Date.now() - started >= 250, 'not taken before its time to live');
  });

  it('is given up at once on a clean release', async () => {
    const a = await repo.take(db, 'job-c', 'replica-1', 60_000);
    await repo.release(db, a!);
    assert.equal((await repo.take(db, 'job-c', 'replica-2', 60_000))?.generation, 2);
  });

  it('moves the work to another keeper when its holder dies, and fences the old holder', async () => {
    const cut = new Cut();
    const events: string[] = [];
    let heldByA: HeldLease | null = null;
    const keeper = (name: string, handle: Db) =>
      new LeaseKeeper({
        db: handle,
        name: 'job-d',
        holder: name,
        log: quiet,
        ttlMs: 600,
        onAcquired: async (lease) => {
          events.push(`${name} starts (generation ${lease.generation})`);
          if (name === 'a') heldByA = lease;
          return async () => void events.push(`${name} stops`);
        },
      });
    const a = keeper('a', db.withPlugin(cut));
    const b = keeper('b', db);
    await a.start();
    await b.start();
    assert.deepEqual(events, ['a starts (generation 1)']);
    assert.equal(b.held(), null);
    // A loses the store (as a killed or cut-off replica would): it stops acting before its lease
    // expires, and B takes the work over after it does.
    cut.cut = true;
    const died = Date.now();
    await until('b to take the work over', () => b.held(), 5_000);
    const tookMs = Date.now() - died;
    assert.ok(
      events.indexOf('a stops') >= 0 && events.indexOf('a stops') < events.indexOf('b starts (generation 2)'),
      `a stopped before b started: ${events.join(', ')}`,
    );
    assert.ok(tookMs < 600 + 200 + 1_000, `taken over in ${tookMs} ms`);
    // The old holder's writes are refused even once it reaches the store again.
    cut.cut = false;
    const stale = heldByA as HeldLease | null;
    assert.ok(stale?.signal.aborted);
    await assert.rejects(
      db.transaction().execute((trx) => stale!.fence(trx)),
      LeaseLost,
    );
    const current = b.held()!;
    await db.transaction().execute((trx) => current.fence(trx));
    await a.stop();
    await b.stop();
    assert.equal(events.at(-1), 'b stops');
  });

  it('stops the work before the lease can expire when a renewal hangs instead of failing', async () => {
    const hang = new Hang();
    let lease: HeldLease | null = null;
    let stoppedAt = 0;
    const keeper = new LeaseKeeper({
      db: db.withPlugin(hang),
      name: 'job-hang',
      holder: 'a',
      log: quiet,
      ttlMs: 600,
      onAcquired: async (l) => {
        lease = l;
        return async () => {
          stoppedAt = Date.now();
        };
      },
    });
    await keeper.start();
    assert.ok(lease, 'taken');
    hang.hung = true;
    const cut = Date.now();
    await until('the work to stop', () => stoppedAt || null, 5_000);
    // The last renewal was asked at most a third of the time to live before the cut: stopping
    // within two thirds of it after the cut (plus the watchdog's beat) is before expiry.
    assert.ok(stoppedAt - cut < 600, `stopped ${stoppedAt - cut} ms after renewals hung`);
    assert.ok((lease as HeldLease | null)?.signal.aborted);
    hang.release();
    await keeper.stop();
  });

  it('in exclusive mode (PGlite, one process) keeps the work running while renewals are late', async () => {
    // One long statement in PGlite delays every other, the renewal's too: with no other process
    // to take the work over, stopping it would only be an outage.
    const hang = new Hang();
    let lease: HeldLease | null = null;
    let stopped = false;
    const keeper = new LeaseKeeper({
      db: db.withPlugin(hang),
      name: 'job-late',
      holder: 'a',
      log: quiet,
      ttlMs: 300,
      exclusive: true,
      onAcquired: async (l) => {
        lease = l;
        return async () => {
          stopped = true;
        };
      },
    });
    await keeper.start();
    hang.hung = true;
    // Over three lives of the lease without a renewal answering (the non-exclusive keeper stops
    // the work within two thirds of one): an absence can only be shown by waiting that long.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(stopped, false);
    assert.equal((lease as HeldLease | null)?.signal.aborted, false);
    hang.release();
    // Its writes still pass the fence, though the row's expiry has long passed.
    await db.transaction().execute((trx) => lease!.fence(trx));
    await keeper.stop();
    assert.equal(stopped, true);
  });

  it('in exclusive mode (PGlite, one process) takes the lease a killed process left at once', async () => {
    await repo.take(db, 'job-e', 'killed-process', 60_000);
    let started = false;
    const k = new LeaseKeeper({
      db,
      name: 'job-e',
      holder: 'me',
      log: quiet,
      exclusive: true,
      onAcquired: async () => {
        started = true;
        return async () => {};
      },
    });
    await k.start();
    assert.equal(started, true);
    assert.equal(k.held()?.generation, 2);
    await k.stop();
  });
});
