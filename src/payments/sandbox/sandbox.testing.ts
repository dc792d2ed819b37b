import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, type GovhostProcess, launch, stopProcess } from '../../test-support/server-process.ts';

export interface RunningSandbox {
  url: string;
  proc: GovhostProcess;
  journal: string;
  /** Starts it again on the same journal (after a kill): a new address. */
  restart(): Promise<RunningSandbox>;
  stop(): Promise<void>;
}

/**
 * Runs `govhost payments sandbox` as a real process on a free loopback port, for tests. A restart
 * keeps the folder (and the journal in it), and with it the duty to remove it.
 */
export async function startSandbox(
  /** `port`: a chosen one, so that a platform told its URL can start at the same time. */
  opts: { lateMs?: number; port?: number } = {},
  again?: { dir: string },
): Promise<RunningSandbox> {
  const dir = again?.dir ?? mkdtempSync(join(tmpdir(), 'govhost-sandbox-'));
  const journal = join(dir, 'journal.jsonl');
  const proc = launch(
    ['payments', 'sandbox'],
    cleanEnv({
      GOVHOST_SANDBOX_PORT: String(opts.port ?? 0),
      GOVHOST_SANDBOX_LATE_MS: String(opts.lateMs ?? 60_000),
      GOVHOST_SANDBOX_JOURNAL: journal,
    }),
  );
  const url = await proc.waitFor(
    (out) => /"sandbox":"([^"]+)"/.exec(out)?.[1],
    'the sandbox to listen',
    30_000,
  );
  return {
    url,
    proc,
    journal,
    restart: () => startSandbox(opts, { dir }),
    async stop() {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the citizen does on the sandbox's card page: pays with `card`, or cancels (null). */
export async function payOnCardPage(redirectUrl: string, card: string | null): Promise<Response> {
  const form =
    card === null ? new URLSearchParams({ action: 'cancel' }) : new URLSearchParams({ action: 'pay', card });
  return fetch(redirectUrl, { method: 'POST', body: form, redirect: 'manual' });
}
