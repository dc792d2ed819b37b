/**
 * A PEP 503 "simple" package index on loopback for tests: `/simple/` lists the projects,
 * `/simple/<project>/` links each wheel with its `#sha256=` digest, and `/files/<wheel>` serves it.
 * It serves only the wheels the test gives it, so a `pip install --index-url` against it installs
 * nothing from anywhere else, as in a closed network whose only source is an internal mirror.
 *
 * @example
 *   const index = await startPipIndex({ wheels: [await bottleWheel()] });
 *   // pip install -r requirements.txt --index-url index.url
 *   await index.close();
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

export interface PipIndex {
  /** The simple index's URL with a trailing slash, e.g. `http://127.0.0.1:40123/simple/`. */
  url: string;
  /** The wheel files served so far, by file name. */
  filesServed(): string[];
  close(): Promise<void>;
}

/** PEP 503's normalised project name: lower case, each run of `-`, `_` and `.` one `-`. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The project a wheel belongs to, from its file name (PEP 427: `{name}-{version}-...whl`). */
function projectOf(file: string): string {
  const m = /^([A-Za-z0-9_.]+)-[^-]+-.+\.whl$/.exec(file);
  if (!m) throw new Error(`${file} is not a wheel file name`);
  return normalizeProjectName(m[1]!);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, links: Array<[href: string, text: string]>) =>
  `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>${escapeHtml(title)}</title></head><body>\n${links
    .map(([href, text]) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a><br>`)
    .join('\n')}\n</body></html>\n`;

export async function startPipIndex(options: { wheels: string[] }): Promise<PipIndex> {
  const files = new Map<string, { data: Buffer; sha256: string; project: string }>();
  for (const path of options.wheels) {
    const data = await readFile(path);
    const file = basename(path);
    files.set(file, {
      data,
      project: projectOf(file),
      sha256: createHash('sha256').update(data).digest('hex'),
    });
  }
  const projects = [...new Set([...files.values()].map((f) => f.project))].sort();
  const served: string[] = [];

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://index').pathname);
    const html = (body: string) =>
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(req.method === 'HEAD' ? '' : body);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/simple/') {
      html(
        page(
          'Simple index',
          projects.map((p) => [`${p}/`, p]),
        ),
      );
      return;
    }
    const project = /^\/simple\/([^/]+)(\/?)$/.exec(path);
    if (project) {
      const name = normalizeProjectName(project[1]!);
      // PEP 503: a project URL that is not normalised, or lacks its slash, redirects to the one that is.
      if (name !== project[1] || !project[2]) {
        res.writeHead(301, { location: `/simple/${name}/` }).end();
        return;
      }
      const links = [...files.entries()].filter(([, f]) => f.project === name);
      if (links.length === 0) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`no project ${name}\n`);
        return;
      }
      html(
        page(
          `Links for ${name}`,
          links.map(([file, f]) => [`../../files/${file}#sha256=${f.sha256}`, file]),
        ),
      );
      return;
    }
    const wheel = /^\/files\/([^/]+)$/.exec(path);
    const found = wheel ? files.get(wheel[1]!) : undefined;
    if (wheel && found) {
      served.push(wheel[1]!);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': found.data.length });
      res.end(req.method === 'HEAD' ? undefined : found.data);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    filesServed: () => [...served],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
