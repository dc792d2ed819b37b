/**
 * The hostile app of the isolation test: deployed as a service, it is told every path in the
 * platform's data folder and a list of loopback ports, and reports what it could open, list or
 * connect to. Written into the bundle as plain JavaScript (it runs as the service's own user).
 */
export const PROBE_SERVER = `
import { closeSync, constants, openSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';

// Never blocks (a FIFO), never changes anything (no O_TRUNC, no O_CREAT).
const opens = (path, flags) => {
  try {
    closeSync(openSync(path, flags | constants.O_NONBLOCK | constants.O_NOFOLLOW));
    return true;
  } catch {
    return false;
  }
};
const lists = (path) => {
  try {
    return readdirSync(path);
  } catch {
    return null;
  }
};
function walk(dir, out) {
  for (const name of lists(dir) ?? []) {
    const path = dir + '/' + name;
    out.push(path);
    walk(path, out);
  }
}
const connect = (port) =>
  new Promise((done) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(3000, () => { s.destroy(); done('timeout'); });
    s.on('connect', () => { s.destroy(); done('ok'); });
    s.on('error', (e) => done(e.code));
  });

createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  let body = '';
  req.setEncoding('utf8').on('data', (d) => (body += d));
  req.on('end', async () => {
    const { dataDir, paths, ports } = JSON.parse(body || '{}');
    const walked = [];
    walk(dataDir, walked);
    const reached = [];
    for (const path of new Set([dataDir, ...paths, ...walked])) {
      if (lists(path) !== null) reached.push({ path, how: 'list' });
      if (opens(path, constants.O_RDONLY)) reached.push({ path, how: 'read' });
      if (opens(path, constants.O_WRONLY)) reached.push({ path, how: 'write' });
    }
    const connections = {};
    for (const [name, port] of Object.entries(ports)) connections[name] = await connect(port);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ uid: process.getuid(), cwd: process.cwd(), tried: paths.length, reached, connections }));
  });
}).listen(Number(process.env.PORT));
`;

export const PROBE_MANIFEST = `applications:
  - name: probe
    instances: 1
    memory: 128M
    health-check-type: http
    health-check-http-endpoint: /healthz
`;
