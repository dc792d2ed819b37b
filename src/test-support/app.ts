import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Config, loadConfig } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { buildApp } from '../server/app.ts';
import type { AppDeps } from '../server/app-deps.ts';
import { bootstrapAdmin } from '../tenancy/bootstrap.ts';
import type { Role } from '../tenancy/roles.ts';
import { testDatabase } from './database.ts';

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  config: Config;
  /** What the app was built with; a test may add parts (e.g. a monitoring engine) later. */
  deps: AppDeps;
  adminToken: string;
  /** Sends a request as the holder of `token` (none for an anonymous request). */
  request(token: string | null, opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** Creates a department with a random code and returns the code. */
  department(prefix?: string): Promise<string>;
  /** Creates a user with `role` (in `department` for department roles) and returns a write token. */
  user(
    role: Role,
    department?: string,
    scope?: 'read' | 'write',
  ): Promise<{ username: string; token: string }>;
  /** Serves the app on a free loopback port (for real clients: the CLI, a browser) and returns its URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The real application on a database of its own, driven through `app.inject()`. */
export async function testApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const store = await testDatabase();
  const config = loadConfig({}, { dataDir: store.dataDir, logLevel: 'silent', ...overrides });
  const admin = await bootstrapAdmin(store.db);
  if (!admin) throw new Error('a fresh test database already had users');
  const deps: AppDeps = { db: store.db, config };
  const app = await buildApp(deps, { logger: false });
  await app.ready();

  const request = (token: string | null, opts: InjectOptions) =>
    app.inject({
      ...opts,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers },
    });

  async function ok(res: LightMyRequestResponse, what: string) {
    if (res.statusCode >= 300) throw new Error(`${what}: ${res.statusCode} ${res.body}`);
    return res.json();
  }

  return {
    app,
    deps,
    db: store.db,
    config,
    adminToken: admin.token,
    request,
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    },
    async department(prefix = 'D') {
      const code = (prefix + randomBytes(4).toString('hex').toUpperCase()).slice(0, 10);
      await ok(
        await request(admin.token, {
          method: 'POST',
          url: '/api/v1/departments',
          payload: { code, nameEn: `Department ${code}`, nameZh: `部門 ${code}` },
        }),
        'create department',
      );
      return code;
    },
    async user(role, department, scope = 'write') {
      const username = `u${randomBytes(5).toString('hex')}`;
      await ok(
        await request(admin.token, {
          method: 'POST',
          url: '/api/v1/users',
          payload: { username, displayName: username, role, ...(department ? { department } : {}) },
        }),
        'create user',
      );
      const created = await ok(
        await request(admin.token, {
          method: 'POST',
          url: '/api/v1/tokens',
          payload: { name: 'test', user: username, scope },
        }),
        'create token',
      );
      return { username, token: created.secret as string };
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}
