import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

// The API now refuses control characters in names, but a row written before that, or by someone
// with database access, still holds them: the real API serves it, the real CLI prints it.
describe('govhost prints what the server holds with its control characters escaped', () => {
  let t: TestApp;
  let url: string;
  const evil = 'Evil\x1b]0;pwned\x07\x1b[2J\u009b31m';

  before(async () => {
    t = await testApp();
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const dept = await t.department('ESC');
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        department: dept,
        slug: 'evil',
        nameEn: 'x',
        nameZh: 'x',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    await sql`update services set name_en = ${evil} where slug = 'evil'`.execute(t.db);
  });
  after(() => t.close());

  it('in tables and JSON: nothing but line feeds reaches the terminal raw', async () => {
    const [table, json] = await Promise.all([
      runCli(url, t.adminToken, ['services', 'list', '--all']),
      runCli(url, t.adminToken, ['--json', 'services', 'list', '--all']),
    ]);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(json.code, 0, json.stderr);
    const rawControl = /[^\P{Cc}\n]/u;
    for (const out of [table.stdout, json.stdout]) assert.doesNotMatch(out, rawControl);
    assert.ok(table.stdout.includes(String.raw`Evil\x1b]0;pwned\x07\x1b[2J\x9b31m`), table.stdout);
    // Scripts still get the exact name back.
    assert.equal(JSON.parse(json.stdout).items[0].nameEn, evil);
  });
});
