import type { Command } from 'commander';
import { ApiClient, normaliseUrl } from './client.ts';
import { credentialsPath, readCredentials } from './credentials.ts';
import { ApiError, CliError } from './errors.ts';
import { jsonText } from './output.ts';

/** The options on the root program, which every command accepts. */
export interface GlobalOptions {
  json?: boolean;
  url?: string;
  token?: string;
}

/** What a command's action works with. */
export interface Ctx {
  api: ApiClient;
  json: boolean;
  /** Prints `data` as the API's JSON under --json (nothing when undefined), else the text `human` makes. */
  print(data: unknown, human: () => string): void;
  /** A hint for people (more pages, how to go on), on stderr so piped tables stay clean. */
  note(text: string): void;
}

export const globalsOf = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();

/** An environment variable, with an empty one counted as unset. */
export const fromEnv = (value: string | undefined) => (value === '' ? undefined : value);

/** Where to send requests, and which token: flags win over GOVHOST_URL/GOVHOST_TOKEN, which win over the stored login. */
export function resolveTarget(opts: GlobalOptions, env = process.env): { url: string; token: string } {
  const givenUrl = opts.url ?? fromEnv(env.GOVHOST_URL);
  const givenToken = opts.token ?? fromEnv(env.GOVHOST_TOKEN);
  // Given both, the stored file is not read: a broken one must not stop a script that needs none.
  const stored = givenUrl && givenToken ? null : readCredentials(credentialsPath(env));
  const rawUrl = givenUrl ?? stored?.url;
  if (!rawUrl) throw new CliError('not logged in: run govhost login --url URL --token TOKEN');
  const url = normaliseUrl(rawUrl);
  // A stored token belongs to the address it was stored with, and is never sent to another one.
  const storedToken = stored && normaliseUrl(stored.url) === url ? stored.token : undefined;
  const token = givenToken ?? storedToken;
  if (!token) throw new CliError(`not logged in to ${url}: run govhost login --url ${url} --token TOKEN`);
  return { url, token };
}

export function printer(json: boolean): Pick<Ctx, 'print' | 'note'> {
  return {
    print: (data, human) => {
      // A 204 has no JSON to print: under --json the exit status alone says it worked.
      if (!json) process.stdout.write(`${human()}\n`);
      else if (data !== undefined) process.stdout.write(`${jsonText(data)}\n`);
    },
    note: (text) => {
      if (!json) process.stderr.write(`${text}\n`);
    },
  };
}

/**
 * Wraps a command's action: finds the API and token, and hands the action its options and
 * arguments. @example .action(act<{ name: string }>(async (ctx, opts, code) => ...))
 */
export function act<O extends object>(fn: (ctx: Ctx, opts: O, ...args: string[]) => Promise<void>) {
  return async (...params: unknown[]): Promise<void> => {
    const cmd = params.at(-1) as Command;
    const globals = globalsOf(cmd);
    const { url, token } = resolveTarget(globals);
    const json = globals.json === true;
    const ctx: Ctx = { api: new ApiClient(url, token), json, ...printer(json) };
    try {
      await fn(ctx, cmd.opts<O>(), ...(cmd.processedArgs as string[]));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        throw new ApiError(err.status, err.code, `${err.detail}; run govhost login`);
      }
      throw err;
    }
  };
}
