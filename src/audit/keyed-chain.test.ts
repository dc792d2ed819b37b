import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';
import { checkChainKey, GENESIS_HASH, macRecord, plainHashRecord } from './audit.logic.ts';
import { auditMigrations } from './audit.migrations.ts';
import * as repo from './audit.repository.ts';
import { auditKeyOf, loadAuditKey, withAuditKey } from './audit-key.ts';

// The attacks of issue 11: someone who can write to the database, but does not hold the audit key.
describe('keyed audit chain', () => {
  let t: TestApp;

  const verify = async (anchor?: string) => {
    const url = `/api/v1/audit/verify${anchor ? `?anchor=${encodeURIComponent(anchor)}` : ''}`;
    return (await t.request(t.adminToken, { method: 'POST', url })).json();
  };
  const anchor = async () =>
    (await t.request(t.adminToken, { method: 'GET', url: '/api/v1/audit/anchor' })).json();

  /** Rewrites every link from the first record on with `link`, as a tamperer would, head included. */
  async function relinkAll(link: (prev: string, row: repo.AuditRow) => string): Promise<void> {
    const rows = await repo.list(t.db, { afterSeq: 0, limit: 1000 });
    let prev = GENESIS_HASH;
    const links = rows.map((row) => {
      const l = { seq: row.seq, prev_hash: prev, hash: link(prev, row) };
      prev = l.hash;
      return l;
    });
    await repo.relink(t.db, links);
  }
  /** The records as they are now, to put back after a case. */
  let pristine: { seq: number; actor_name: string; prev_hash: string; hash: string }[];
  const restore = async () => {
    for (const r of pristine) {
      await sql`update audit_log set actor_name = ${r.actor_name}, prev_hash = ${r.prev_hash}, hash = ${r.hash} where seq = ${r.seq}`.execute(
        t.db,
      );
    }
    const last = pristine.at(-1)!;
    await sql`update audit_head set seq = ${last.seq}, hash = ${last.hash}`.execute(t.db);
  };

  before(async () => {
    t = await testApp();
    for (const code of ['KA', 'KB', 'KC']) await t.department(code);
  });
  beforeEach(async () => {
    pristine = await t.db
      .selectFrom('audit_log')
      .select(['seq', 'actor_name', 'prev_hash', 'hash'])
      .orderBy('seq')
      .execute();
  });
  after(() => t.close());

  it('gives the head as an anchor, which verify accepts, to platform roles only', async () => {
    const a = await anchor();
    assert.equal(a.seq, pristine.at(-1)!.seq);
    assert.equal(a.anchor, `${a.seq}:${a.mac}`);
    const v = await verify(a.anchor);
    assert.equal(v.ok, true);
    assert.equal(v.headSeq, a.seq);
    const dept = await t.department('KD');
    const deptAdmin = await t.user('dept-admin', dept);
    const refused = await t.request(deptAdmin.token, { method: 'GET', url: '/api/v1/audit/anchor' });
    assert.equal(refused.statusCode, 403);
    const bad = await t.request(t.adminToken, { method: 'POST', url: '/api/v1/audit/verify?anchor=nope' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().detail, /seq:mac/);
  });

  it('detects an edited record whose later plain hashes were all recomputed', async () => {
    const a = await anchor();
    const victim = pristine[1]!;
    await sql`update audit_log set actor_name = 'mallory' where seq = ${victim.seq}`.execute(t.db);
    await relinkAll(plainHashRecord);
    const v = await verify();
    assert.equal(v.ok, false);
    assert.equal(v.brokenAtSeq, pristine[0]!.seq, 'the first plain link already fails the keyed check');
    const anchored = await verify(a.anchor);
    assert.equal(anchored.ok, false);
    // Nor can a guessed key make the chain verify.
    const guess = randomBytes(32);
    await relinkAll((prev, row) => macRecord(guess, prev, row));
    assert.equal((await verify()).ok, false);
    await restore();
    assert.equal((await verify(a.anchor)).ok, true);
  });

  it('with an anchor, detects a chain rewritten even by someone holding the key', async () => {
    const a = await anchor();
    await sql`update audit_log set actor_name = 'mallory' where seq = ${pristine[1]!.seq}`.execute(t.db);
    // The real key, as an insider who holds it would use it.
    const real = auditKeyOf(t.db)!;
    await relinkAll((prev, row) => macRecord(real, prev, row));
    assert.equal((await verify()).ok, true, 'the whole chain re-computed under the key verifies');
    const anchored = await verify(a.anchor);
    assert.equal(anchored.ok, false);
    assert.equal(anchored.brokenAtSeq, a.seq);
    assert.match(anchored.reason, /rewritten/);
    await restore();
  });

  it('makes audit.key once, readable by the platform only, unless GOVHOST_AUDIT_KEY is set', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'govhost-audit-key-'));
    try {
      const made = loadAuditKey({ dataDir, auditKey: null });
      assert.equal(made.length, 32);
      assert.equal(statSync(join(dataDir, 'audit.key')).mode & 0o777, 0o600);
      assert.deepEqual(loadAuditKey({ dataDir, auditKey: null }), made);
      const given = randomBytes(32);
      assert.deepEqual(loadAuditKey({ dataDir, auditKey: given.toString('base64') }), given);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start under another key than the chain was written with', async () => {
    await checkChainKey(t.db);
    await assert.rejects(
      checkChainKey(withAuditKey(t.db, randomBytes(32))),
      /same key|key the chain was written with/,
    );
  });

  it('re-keys an old plain chain once, and refuses a plain chain that does not verify', async () => {
    // Migration 0016 itself, in a transaction as the migrator runs it (later migrations exist
    // now, so the migrator would not run it again out of order).
    const rerun = () =>
      t.db.transaction().execute((trx) => auditMigrations['0017_audit_keyed_chain']!.up(trx));
    // The trail as GovHost wrote it before 0016.
    await relinkAll(plainHashRecord);
    assert.equal((await verify()).ok, false);
    await rerun();
    const v = await verify();
    assert.equal(v.ok, true);
    assert.equal(v.records, pristine.length);

    await relinkAll(plainHashRecord);
    const victim = pristine[2]!.seq;
    await sql`update audit_log set actor_name = 'mallory' where seq = ${victim}`.execute(t.db);
    await assert.rejects(rerun(), new RegExp(`does not verify at seq ${victim} .*will not re-key`));
    await restore();
    assert.equal((await verify()).ok, true);
  });
});
