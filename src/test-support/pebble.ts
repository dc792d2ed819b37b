import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killChild } from './challtestsrv.ts';
import { runCommand } from './command.ts';
import { freePort } from './free-port.ts';
import { until } from './until.ts';

export const PEBBLE = '/usr/bin/pebble';

export interface RunningPebble {
  /** The ACME directory, over HTTPS with pebble's own certificate (trust `caFile`). */
  directoryUrl: string;
  /** PEM of the certificate pebble serves its API with: what the ACME client must trust. */
  caFile: string;
  /** The CA's current root (PEM), which issued chains lead to. */
  root(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts Debian's pebble on free loopback ports with a config and an HTTPS certificate it writes to
 * a temp folder. HTTP-01 checks go to `httpPort` on the address `dnsPort` (a pebble-challtestsrv)
 * gives each name. No sleeps, no random nonce refusals, no authorization reuse: every order asks
 * for a fresh challenge, as a first issuance would.
 */
export async function startPebble(opts: { httpPort: number; dnsPort: number }): Promise<RunningPebble> {
  const dir = mkdtempSync(join(tmpdir(), 'govhost-pebble-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = await runCommand(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=pebble test',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { cwd: dir, env: process.env, timeoutMs: 30_000 },
    );
    if (made.code !== 0) throw new Error(`openssl could not make pebble's certificate: ${made.stderr}`);
    const port = await freePort();
    const managementPort = await freePort();
    const config = join(dir, 'pebble.json');
    writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${port}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: cert,
          privateKey: key,
          httpPort: opts.httpPort,
          tlsPort: await freePort(),
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    const child = spawn(PEBBLE, ['-config', config, '-dnsserver', `127.0.0.1:${opts.dnsPort}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (output += s));
    const directoryUrl = `https://127.0.0.1:${port}/dir`;
    const ca = new Agent({ ca: readFileSync(cert, 'utf8') });
    // node's fetch takes no agent: the test's own requests to pebble go through https.get.
    const get = (url: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        httpsGet(url, { agent: ca }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (s: string) => (body += s));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
    try {
      await until(
        'pebble to serve its directory',
        async () => {
          if (child.exitCode !== null) throw new Error(`pebble exited: ${output}`);
          return (await get(directoryUrl)).status === 200;
        },
        20_000,
        50,
      );
    } catch (err) {
      await killChild(child);
      throw err;
    }
    return {
      directoryUrl,
      caFile: cert,
      root: async () => (await get(`https://127.0.0.1:${managementPort}/roots/0`)).body,
      close: async () => {
        await killChild(child);
        ca.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
