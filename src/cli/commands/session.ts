import type { Command } from 'commander';
import { ApiClient, normaliseUrl } from '../client.ts';
import { act, fromEnv, globalsOf, printer } from '../context.ts';
import {
  type Credentials,
  credentialsPath,
  readCredentials,
  removeCredentials,
  saveCredentials,
} from '../credentials.ts';
import { usageError } from '../errors.ts';
import { readSecretFromStdin } from '../options.ts';
import { record } from '../output.ts';

interface Me {
  username: string;
  role: string;
  department: string | null;
  tokenScope: string;
}

/** The stored login, or null when there is none or it cannot be read (login and logout replace it anyway). */
function storedLogin(path: string): Credentials | null {
  try {
    return readCredentials(path);
  } catch {
    return null;
  }
}

const isLoopback = (url: string) => ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);

/** The token to store: the one given, or a session token bought with a password. */
async function obtainToken(
  url: string,
  opts: { username?: string; passwordStdin?: boolean },
  flagToken: string | undefined,
): Promise<string> {
  if (opts.username) {
    // Only the flag conflicts: a GOVHOST_TOKEN left in the environment is a default, not a choice.
    if (flagToken) throw usageError('give --token or --username, not both');
    if (!opts.passwordStdin)
      throw usageError('--username needs --password-stdin, with the password piped in');
    const password = await readSecretFromStdin();
    const res = await new ApiClient(url, null).post<{ token: string }>('/auth/login', {
      username: opts.username,
      password,
    });
    return res.token;
  }
  if (opts.passwordStdin) throw usageError('--password-stdin goes with --username');
  const token = flagToken ?? fromEnv(process.env.GOVHOST_TOKEN);
  if (!token) throw usageError('give --token TOKEN, or --username USER --password-stdin');
  return token;
}

/** `govhost login`, `logout` and `whoami`: the CLI's own sign-in. */
export function registerSessionCommands(program: Command): void {
  program
    .command('login')
    .description('check a token (or user name and password) with GovHost and store it for later commands')
    .option('--username <user>', 'sign in with this user name and a password instead of a token')
    .option('--password-stdin', 'read the password from standard input')
    .addHelpText(
      'after',
      [
        '',
        'Give the address with the global --url (or GOVHOST_URL), and a token with --token (or GOVHOST_TOKEN):',
        '  govhost login --url http://127.0.0.1:7070 --token ghk_...',
        '  printf %s "$PASSWORD" | govhost login --url https://govhost.example --username alice --password-stdin',
        `The login is stored, readable by you alone, in ${credentialsPath()}`,
      ].join('\n'),
    )
    .action(async (opts: { username?: string; passwordStdin?: boolean }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const path = credentialsPath();
      const rawUrl = globals.url ?? fromEnv(process.env.GOVHOST_URL) ?? storedLogin(path)?.url;
      if (!rawUrl) throw usageError('give the address of GovHost: govhost login --url URL --token TOKEN');
      const url = normaliseUrl(rawUrl);
      const out = printer(globals.json === true);
      if (!url.startsWith('https:') && !isLoopback(url)) {
        out.note(`warning: ${url} is not https, so secrets cross the network unencrypted`);
      }
      const token = await obtainToken(url, opts, globals.token);
      const me = await new ApiClient(url, token).get<Me>('/me');
      saveCredentials({ url, token }, path);
      out.print(me, () =>
        [
          `Logged in to ${url} as ${me.username} (${me.role}${me.department ? ` in ${me.department}` : ''}).`,
          `Stored in ${path}.`,
        ].join('\n'),
      );
    });

  program
    .command('logout')
    .description(
      'end the stored login: a password session is revoked on the server, then the login is forgotten',
    )
    .action(async (_opts: object, cmd: Command) => {
      const path = credentialsPath();
      const stored = storedLogin(path);
      const out = printer(globalsOf(cmd).json === true);
      let server = '';
      if (stored) {
        try {
          const res = await new ApiClient(stored.url, stored.token).post<{ revoked: boolean }>(
            '/auth/logout',
            {},
          );
          server = res.revoked ? ' and ended the session' : ' (an API token: it stays valid until revoked)';
        } catch (err) {
          // Forgetting the login locally must work even when the server is gone or the token expired.
          server = ` (the server did not end the session: ${(err as Error).message})`;
        }
      }
      const removed = removeCredentials(path);
      out.print(undefined, () =>
        removed
          ? `Logged out${stored ? ` of ${stored.url}` : ''}${server}: removed ${path}.`
          : 'Not logged in.',
      );
    });

  program
    .command('whoami')
    .description('show who the token belongs to')
    .action(
      act(async (ctx) => {
        const me = await ctx.api.get<Me>('/me');
        ctx.print(me, () =>
          record([
            ['user', me.username],
            ['role', me.role],
            ['department', me.department],
            ['token scope', me.tokenScope],
            ['url', ctx.api.url],
          ]),
        );
      }),
    );
}
