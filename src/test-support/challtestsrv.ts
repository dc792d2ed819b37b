import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { until } from './until.ts';

/** Debian's `pebble` package ships it; tests that need it skip, saying so, when it is missing. */
export const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';
export const challTestSrvMissing = (): string | false =>
  existsSync(CHALLTESTSRV) ? false : `${CHALLTESTSRV} is missing (apt-get install pebble; .ci/run does)`;

/** challtestsrv answers only fully qualified names: the trailing dot is part of the key. */
const fqdn = (host: string) => (host.endsWith('.') ? host : `${host}.`);

/**
 * A real DNS server on loopback (pebble-challtestsrv) whose records a test sets through its HTTP
 * management API. Only its DNS and management listeners are on; it is killed on close.
 */
export async function startChallTestSrv(): Promise<{
  dnsPort: number;
  managementUrl: string;
  addA(host: string, ip: string): Promise<void>;
  setTxt(host: string, value: string): Promise<void>;
  close(): Promise<void>;
}> {
  const dnsPort = await freePort();
  const managementPort = await freePort();
  const child = spawn(
    CHALLTESTSRV,
    [
      '-dns01',
      `127.0.0.1:${dnsPort}`,
      '-management',
      `127.0.0.1:${managementPort}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${managementUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`challtestsrv ${path}: ${res.status} ${await res.text()}`);
  };
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    // Ready once the management API answers (it starts after the DNS listener).
    await until(
      'pebble-challtestsrv to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`pebble-challtestsrv ended: ${output.slice(-500)}`);
        await post('/clear-txt', { host: fqdn('ready.test') });
        return true;
      },
      10_000,
      50,
    );
  } catch (err) {
    await close();
    throw err;
  }
  return {
    dnsPort,
    managementUrl,
    addA: (host, ip) => post('/add-a', { host: fqdn(host), addresses: [ip] }),
    setTxt: (host, value) => post('/set-txt', { host: fqdn(host), value }),
    close,
  };
}
