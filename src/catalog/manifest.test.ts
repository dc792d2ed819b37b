import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../platform/errors.ts';
import { parseManifest, parseProcfile } from './manifest.ts';
import { parseSizeMb } from './manifest-reader.ts';

/** Asserts that parsing fails with GOVHOST_MANIFEST_INVALID and exactly this message. */
function rejects(text: string, message: string, extensions?: Record<string, unknown>) {
  assert.throws(
    () => parseManifest(text),
    (err: unknown) => {
      assert.ok(err instanceof DomainError, String(err));
      assert.equal(err.code, 'GOVHOST_MANIFEST_INVALID');
      assert.equal(err.message, message);
      if (extensions) assert.deepEqual(err.extensions, extensions);
      return true;
    },
  );
}

const app = (...lines: string[]) =>
  ['applications:', '- name: forms', ...lines.map((l) => `  ${l}`), ''].join('\n');

describe('parseManifest', () => {
  it('reads a full Cloud Foundry manifest', () => {
    const text = `---
version: 1
applications:
- name: clinic-booking
  instances: 3
  memory: 512M
  disk_quota: 2G
  command: node server.js --port $PORT
  health-check-type: http
  health-check-http-endpoint: /healthz
  timeout: 120
  env:
    NODE_ENV: production
    MAX_ITEMS: 25
    FEATURE_X: true
    VERSION: 1.10
  routes:
  - route: Booking.DH.gov.hk
  - route: booking.dh.localhost
`;
    const { manifest, warnings } = parseManifest(text);
    assert.deepEqual(manifest, {
      name: 'clinic-booking',
      instances: 3,
      memoryMb: 512,
      diskQuotaMb: 2048,
      command: 'node server.js --port $PORT',
      healthCheck: { type: 'http', endpoint: '/healthz', startTimeoutSec: 120 },
      env: { NODE_ENV: 'production', MAX_ITEMS: '25', FEATURE_X: 'true', VERSION: '1.10' },
      routes: ['booking.dh.gov.hk', 'booking.dh.localhost'],
      buildpacks: [],
    });
    // Claims are filed by the deploy (src/edge), which says what became of each name.
    assert.deepEqual(warnings, []);
  });

  it('fills in the defaults', () => {
    const { manifest } = parseManifest('applications:\n- {}\n');
    assert.deepEqual(manifest, {
      buildpacks: [],
      name: null,
      instances: 1,
      memoryMb: 256,
      diskQuotaMb: 1024,
      command: null,
      healthCheck: { type: 'port', endpoint: '/', startTimeoutSec: 60 },
      env: {},
      routes: [],
    });
    assert.equal(parseManifest(app('command: null')).manifest.command, null);
  });

  it('reads memory and disk sizes in CF units', () => {
    assert.equal(parseSizeMb('256M'), 256);
    assert.equal(parseSizeMb('512MB'), 512);
    assert.equal(parseSizeMb('1G'), 1024);
    assert.equal(parseSizeMb('2gb'), 2048);
    assert.equal(parseSizeMb('16384K'), 16);
    assert.equal(parseSizeMb('1000K'), null, 'not a whole number of megabytes');
    assert.equal(parseSizeMb('1.5G'), null);
    assert.equal(parseSizeMb('512'), null, 'a unit is required');
    assert.equal(parseManifest(app('memory: 1G', 'disk_quota: 512MB')).manifest.memoryMb, 1024);
    assert.equal(parseManifest(app('disk_quota: 512MB')).manifest.diskQuotaMb, 512);
    rejects(
      app('memory: 512'),
      'manifest.yml line 3: applications[0].memory must be a size with a unit such as 256M or 1G, from 16M to 16G',
    );
    rejects(app('memory: 8M'), 'manifest.yml line 3: applications[0].memory must be from 16M to 16G, not 8M');
    rejects(
      app('memory: 32G'),
      'manifest.yml line 3: applications[0].memory must be from 16M to 16G, not 32G',
    );
    rejects(
      app('disk_quota: 1T'),
      'manifest.yml line 3: applications[0].disk_quota must be from 64M to 64G, not 1T',
    );
  });

  it('names the line and field of each error', () => {
    rejects(
      app('memory: 256M', 'env:', '  A: b', '  B: c', 'instances: 0'),
      'manifest.yml line 7: applications[0].instances must be a whole number from 1 to 100',
      { file: 'manifest.yml', line: 7, field: 'applications[0].instances' },
    );
    const cases: Array<[string, string]> = [
      ['instances: 2.5', 'applications[0].instances must be a whole number from 1 to 100'],
      ['instances: "3"', 'applications[0].instances must be a whole number from 1 to 100'],
      ['instances:', 'applications[0].instances must be a whole number from 1 to 100'],
      ['health-check-type: tcp', 'applications[0].health-check-type must be http, port or process'],
      ['health-check-http-endpoint: healthz', 'applications[0].health-check-http-endpoint must start with /'],
      ['timeout: 601', 'applications[0].timeout must be a whole number from 1 to 600'],
      ['command: ""', 'applications[0].command must be non-empty text'],
      ['env: [A, B]', 'applications[0].env must be a map of names to values'],
      ['env: { 1A: x }', 'applications[0].env.1A is not a valid environment variable name'],
      ['env: { PORT: 8080 }', 'applications[0].env.PORT is set by GovHost for each instance'],
      ['env: { A: [1] }', 'applications[0].env.A must be text, a number or true/false'],
      [
        'routes: x.gov.hk',
        'applications[0].routes must be a list of entries such as - route: forms.dept.gov.hk',
      ],
      [
        'routes: [{ route: x.gov.hk/path }]',
        'applications[0].routes[0].route must be a host name such as forms.dept.gov.hk',
      ],
      [
        'routes: [{ route: "*.gov.hk" }]',
        'applications[0].routes[0].route must be a host name such as forms.dept.gov.hk',
      ],
      [
        'routes: [{ route: a.hk }, { route: A.hk }]',
        'applications[0].routes[1].route lists a.hk a second time',
      ],
      ['routes: [{ host: a }]', 'applications[0].routes[0].host is not a known field'],
      ['routes: [{ protocol: http2 }]', 'applications[0].routes[0] needs a route: host name'],
    ];
    for (const [line, problem] of cases) rejects(app(line), `manifest.yml line 3: ${problem}`);
    rejects(
      app('env:', '  GOOD: 1', '  bad-name: 2'),
      'manifest.yml line 5: applications[0].env.bad-name is not a valid environment variable name',
    );
  });

  it('rejects more than one application, naming its line', () => {
    rejects(
      'applications:\n- name: a\n  memory: 128M\n- name: b\n',
      'manifest.yml line 4: applications[1] is not supported: a bundle holds exactly one application',
    );
    rejects('applications: []\n', 'manifest.yml line 1: applications must list one application');
    rejects('version: 1\n', 'manifest.yml line 1: applications is missing: list one application');
    rejects('', 'manifest.yml line 1: the manifest is empty: it needs an applications: list');
    rejects('- name: a\n', 'manifest.yml line 1: the manifest must be a map with an applications: list');
  });

  it('accepts Cloud Foundry attributes it does not implement, with a warning naming each', () => {
    const text = [
      'applications:',
      '- name: legacy',
      '  buildpacks: [nodejs_buildpack]',
      '  stack: cflinuxfs4',
      '  services: [db]',
      '  random-route: true',
      '  memory: 128M',
      '  health-check-type: none',
      '  routes:',
      '  - route: legacy.gov.hk',
      '    protocol: http1',
      '',
    ].join('\n');
    const { manifest, warnings } = parseManifest(text);
    assert.equal(manifest.memoryMb, 128);
    assert.equal(manifest.healthCheck.type, 'process');
    assert.deepEqual(manifest.routes, ['legacy.gov.hk']);
    // Buildpacks are read (the build capability picks a builder from them), not warned about here.
    assert.deepEqual(manifest.buildpacks, ['nodejs_buildpack']);
    assert.deepEqual(warnings, [
      'manifest.yml line 4: applications[0].stack is a Cloud Foundry attribute that GovHost ignores',
      'manifest.yml line 5: applications[0].services is a Cloud Foundry attribute that GovHost ignores',
      'manifest.yml line 6: applications[0].random-route is a Cloud Foundry attribute that GovHost ignores',
      'manifest.yml line 8: applications[0].health-check-type none is the old name for process; GovHost uses process',
      'manifest.yml line 11: applications[0].routes[0].protocol is a Cloud Foundry attribute that GovHost ignores',
    ]);
    const top = parseManifest('buildpack: x\napplications:\n- name: a\n');
    assert.deepEqual(top.warnings, [
      'manifest.yml line 1: buildpack is a Cloud Foundry attribute that GovHost ignores',
    ]);
  });

  it('rejects a field it does not know, at the top level or in the application', () => {
    rejects(app('memroy: 256M'), 'manifest.yml line 3: applications[0].memroy is not a known field');
    rejects('applications:\n- name: a\nfoo: 1\n', 'manifest.yml line 3: foo is not a known field');
    rejects(
      'memory: 1G\napplications:\n- name: a\n',
      'manifest.yml line 1: memory belongs under applications[0], not at the top level',
    );
    rejects('version: 2\napplications: [{}]\n', 'manifest.yml line 1: version must be 1');
  });

  it('reports bad YAML with its line and column', () => {
    assert.throws(
      () => parseManifest('applications:\n- name: a\n  env: { A: 1\n  memory: 1G\n', 'manifest.yaml'),
      (err: DomainError) => {
        assert.equal(err.code, 'GOVHOST_MANIFEST_INVALID');
        assert.match(err.message, /^manifest\.yaml line \d+, column \d+: not valid YAML: /);
        assert.equal(typeof err.extensions.line, 'number');
        return true;
      },
    );
    assert.throws(
      () => parseManifest('a: 1\na: 2\n'),
      /^DomainError: manifest\.yml line 2, column 1: not valid YAML: Map keys must be unique/,
    );
    assert.throws(
      () => parseManifest('applications: []\n---\nx: 1\n'),
      /manifest\.yml line 2, column 1: not valid YAML/,
    );
  });

  it('resolves YAML aliases', () => {
    const text = 'applications:\n- name: a\n  env: &shared { A: x }\n  command: &cmd node s.js\n';
    assert.deepEqual(parseManifest(text).manifest.env, { A: 'x' });
  });
});

describe('parseProcfile', () => {
  it('finds the web command and warns about other process types', () => {
    const { web, warnings } = parseProcfile(
      '# processes\n\nweb: python3 app.py --port $PORT\nworker: python3 jobs.py\n',
    );
    assert.equal(web, 'python3 app.py --port $PORT');
    assert.deepEqual(warnings, ['Procfile line 4: worker processes are not run by GovHost; only web is']);
    assert.equal(parseProcfile('worker: x\n').web, null);
    assert.equal(parseProcfile('\uFEFFweb:node s.js\r\n').web, 'node s.js');
  });

  it('rejects a malformed line, naming it', () => {
    assert.throws(
      () => parseProcfile('web: node a.js\nnode b.js\n'),
      (err: DomainError) => {
        assert.equal(err.code, 'GOVHOST_MANIFEST_INVALID');
        assert.equal(
          err.message,
          'Procfile line 2: must look like "web: node server.js" (a process type, a colon, a command)',
        );
        assert.equal(err.extensions.line, 2);
        return true;
      },
    );
    assert.throws(() => parseProcfile('web:\n'), /^DomainError: Procfile line 1: web has no command$/);
    assert.throws(
      () => parseProcfile('web: a\nweb: b\n'),
      /^DomainError: Procfile line 2: web is listed a second time$/,
    );
  });
});
