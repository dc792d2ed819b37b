import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to PGlite in ./.govhost on loopback', () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, null);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.domain, 'localhost');
    assert.match(c.dataDir, /\.govhost$/);
    assert.ok(Object.isFrozen(c));
  });

  it('names every wrong variable and its value', () => {
    const err = (() => {
      try {
        loadConfig({ GOVHOST_PORT: 'eighty', GOVHOST_LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 3);
    assert.match(err.message, /GOVHOST_PORT .*"eighty"/);
    assert.match(err.message, /GOVHOST_LOG_LEVEL/);
    assert.match(err.message, /DATABASE_URL/);
  });

  it('reads an optional JSON file, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-config-'));
    const file = join(dir, 'govhost.json');
    writeFileSync(file, JSON.stringify({ port: 9000, domain: 'gov.example' }));
    const c = loadConfig({ GOVHOST_CONFIG: file, GOVHOST_PORT: '9100' });
    assert.equal(c.port, 9100);
    assert.equal(c.domain, 'gov.example');
  });

  it('rejects an unknown setting in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-config-'));
    const file = join(dir, 'govhost.json');
    writeFileSync(file, JSON.stringify({ prot: 9000 }));
    assert.throws(() => loadConfig({ GOVHOST_CONFIG: file }), /unknown setting "prot"/);
  });
});
