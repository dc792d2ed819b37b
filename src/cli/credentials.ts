import { mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.ts';

/** What `govhost login` keeps: the API address and a bearer token for it. */
export interface Credentials {
  url: string;
  token: string;
}

/** `$GOVHOST_CLI_CONFIG`, else `${XDG_CONFIG_HOME:-$HOME/.config}/govhost/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GOVHOST_CLI_CONFIG) return resolve(env.GOVHOST_CLI_CONFIG);
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'govhost', 'credentials.json');
}

/** The stored login, or null when there is none. */
export function readCredentials(path = credentialsPath()): Credentials | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<Credentials>;
    if (typeof parsed.url === 'string' && typeof parsed.token === 'string') {
      return { url: parsed.url, token: parsed.token };
    }
  } catch {
    // Reported below with the same advice as a file of the wrong shape.
  }
  throw new CliError(`${path} is not a GovHost credentials file: run govhost logout, then govhost login`);
}

/** Stores the login readable by this user alone; a rename, so a crash never leaves half a file. */
export function saveCredentials(creds: Credentials, path = credentialsPath()): void {
  // The file holds a secret: its folder is private, and the file is created 0600 rather than
  // chmod-ed afterwards, so it is never readable by others even for a moment.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new CliError(`cannot save the login to ${path}: ${(err as Error).message}`);
  }
}

/** Deletes the stored login; false when there was none. */
export function removeCredentials(path = credentialsPath()): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CliError(`cannot remove ${path}: ${(err as Error).message}`);
  }
}
