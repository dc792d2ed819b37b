import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { packBundle } from '../../src/cli/pack.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field, as a client would
type Json = any;

export type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: Json }>;

/** A small API client for end-to-end tests. */
export function apiClient(baseUrl: string, token: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((err: Error & { cause?: { code?: string; message?: string } }) => {
      // fetch says only "fetch failed": name the call, the socket error and when, so that a
      // connection the server dropped can be told from one it never accepted.
      const why = err.cause?.code ?? err.cause?.message ?? err.message;
      throw new Error(`${method} ${path} failed at ${new Date().toISOString()}: ${why}`, { cause: err });
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
}

/** Registers a silver-tier web service named after its slug, and checks it was created. */
export async function createService(api: Api, department: string, slug: string): Promise<void> {
  const res = await api('POST', '/services', {
    department,
    slug,
    nameEn: slug,
    nameZh: slug,
    origin: 'new',
    channels: ['web'],
    slaTier: 'silver',
  });
  if (res.status !== 201)
    throw new Error(`service ${department}/${slug} not created: ${JSON.stringify(res.json)}`);
}

/** Packs a folder, uploads it as a deploy, and returns the API's answer (202 or a problem). */
export async function uploadBundle(baseUrl: string, token: string, service: string, dir: string, query = '') {
  const packed = await packBundle(dir);
  try {
    return await uploadFile(baseUrl, token, service, packed.path, query);
  } finally {
    // The archive goes to the system's temporary folder: remove it, as `govhost deploy` does.
    await rm(packed.path, { force: true });
  }
}

/** `query`: e.g. `?noCache=true`. */
export async function uploadFile(baseUrl: string, token: string, service: string, file: string, query = '') {
  const res = await fetch(`${baseUrl}/api/v1/services/${service}/deployments${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/gzip',
      'content-length': String((await stat(file)).size),
    },
    body: createReadStream(file) as unknown as RequestInit['body'],
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Polls a deployment until it has finished (bounded), and returns it. */
export async function waitDeployment(api: Api, service: string, id: string, ms = 60_000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    const res = await api('GET', `/services/${service}/deployments/${id}`);
    if (res.json.state !== 'running') return res.json;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`deployment ${id} of ${service} still running after ${ms} ms`);
}

/** Deploys a folder and waits for the outcome. */
export async function deployDir(
  baseUrl: string,
  api: Api,
  token: string,
  service: string,
  dir: string,
  query = '',
) {
  const up = await uploadBundle(baseUrl, token, service, dir, query);
  if (up.status !== 202)
    throw new Error(`deploy of ${service} refused: ${up.status} ${JSON.stringify(up.json)}`);
  return { upload: up.json, deployment: await waitDeployment(api, service, up.json.deployment.id) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** A request through the router, with the Host header citizens would send (a GET unless `init` says). */
export function viaRouter(
  routerUrl: string,
  host: string,
  path = '/',
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(routerUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: init.method ?? 'GET',
        headers: { ...init.headers, host },
        agent,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Polls through the router until `ok` holds for an answer (bounded); returns that answer. */
export async function untilServed(
  routerUrl: string,
  host: string,
  ok: (r: { status: number; body: string }) => boolean,
  ms = 20_000,
  path = '/',
) {
  let last: unknown = null;
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    try {
      const r = await viaRouter(routerUrl, host, path);
      if (ok(r)) return r;
      last = r;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${host}${path} not served as expected within ${ms} ms; last: ${JSON.stringify(last)}`);
}

export function closeAgent() {
  agent.destroy();
}
