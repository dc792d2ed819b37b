import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { libpqEnv } from './store-dump.ts';

describe('store dump', () => {
  it("pg_dump and pg_restore reach the server the platform's URL names, TCP or Unix socket", () => {
    const tcp = libpqEnv('postgres://gov%40host:p%2Fw@db.internal:5433/govhost?sslmode=require');
    assert.equal(tcp.PGHOST, 'db.internal');
    assert.equal(tcp.PGPORT, '5433');
    assert.equal(tcp.PGUSER, 'gov@host');
    assert.equal(tcp.PGPASSWORD, 'p/w');
    assert.equal(tcp.PGDATABASE, 'govhost');
    assert.equal(tcp.PGSSLMODE, 'require');
    // The form docs/benchmarks.md gives for a socket: the pg client takes `host` over the name.
    const socket = libpqEnv('postgres://govhost:pw@localhost/govhost?host=/var/run/postgresql');
    assert.equal(socket.PGHOST, '/var/run/postgresql');
    assert.equal(socket.PGDATABASE, 'govhost');
  });
});
