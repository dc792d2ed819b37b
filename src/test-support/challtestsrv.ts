import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { until } from './until.ts';

/** Debian's `pebble` package ships it; tests that need it skip, saying so, when it is missing. */
export const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';
export const challTestSrvMissing = (): string | false =>
  existsSync(CHALLTESTSRV) ? false : `${CHALLTESTSRV} is missing (apt-get install pebble; .ci/run does)`;

/** Ends a test helper's child process and waits for it (SIGKILL: nothing of it needs flushing). */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/**
 * Starts Debian's pebble-challtestsrv as a DNS server on loopback (its other challenge servers off):
 * A records are added through its management API; names without one get no address (not a
 * default), so a test says which names resolve. Skip the test when CHALLTESTSRV is missing.
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
      '-defaultIPv4',
      '',
      '-defaultIPv6',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (output += s));
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const post = async (path: string, body: object) => {
    const res = await fetch(`${managementUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`pebble-challtestsrv ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  const fqdn = (host: string) => (host.endsWith('.') ? host : `${host}.`);
  try {
    // Any answer from the management API means the process is up (its DNS socket is bound first).
    await until(
      'pebble-challtestsrv to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`pebble-challtestsrv exited: ${output}`);
        return (await fetch(`${managementUrl}/`)).status > 0;
      },
      15_000,
      50,
    );
  } catch (err) {
    await killChild(child);
    throw err;
  }
  return {
    dnsPort,
    managementUrl,
    addA: (host, ip) => post('/add-a', { host: fqdn(host), addresses: [ip] }),
    setTxt: (host, value) => post('/set-txt', { host: fqdn(host), value }),
    close: () => killChild(child),
  };
}
