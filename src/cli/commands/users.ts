import { type Command, Option } from 'commander';
import { ROLES } from '../../tenancy/roles.ts';
import { act } from '../context.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { patchOf, readSecretFromStdin } from '../options.ts';
import { record, when, yesNo } from '../output.ts';

interface User {
  username: string;
  displayName: string;
  email: string | null;
  department: string | null;
  role: string;
  disabled: boolean;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

interface UserFields {
  role?: string;
  displayName?: string;
  email?: string | false;
  passwordStdin?: boolean;
}

const show = (u: User) =>
  record([
    ['user', u.username],
    ['name', u.displayName],
    ['e-mail', u.email],
    ['role', u.role],
    ['department', u.department],
    ['disabled', yesNo(u.disabled)],
    ['password', u.hasPassword ? 'set' : 'none (token only)'],
    ['created', when(u.createdAt)],
    ['updated', when(u.updatedAt)],
  ]);

const path = (username: string) => `/users/${encodeURIComponent(username)}`;
const roleOption = (description: string) => new Option('--role <role>', description).choices(ROLES);
const passwordOption = () =>
  new Option('--password-stdin', 'read a password (12 or more characters) from standard input');

/** `govhost users ...`: people and robots who sign in to the platform. */
export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('user accounts');

  withPaging(users.command('list').description('list users (your department, for a department user)'))
    .option('--department <code>', 'only users of this department')
    .action(
      act<PageOptions & { department?: string }>(async (ctx, opts) => {
        const page = await fetchPage<User>(ctx.api, '/users', { department: opts.department }, opts);
        printPage(ctx, page, 'users', [
          ['user', (u) => u.username],
          ['role', (u) => u.role],
          ['department', (u) => u.department],
          ['name', (u) => u.displayName],
          ['disabled', (u) => yesNo(u.disabled)],
        ]);
      }),
    );

  users
    .command('show')
    .description('show a user')
    .argument('<user>', 'user name')
    .action(
      act(async (ctx, _opts, username) => {
        const u = await ctx.api.get<User>(path(username));
        ctx.print(u, () => show(u));
      }),
    );

  users
    .command('create')
    .description('create a user (platform-admin, or dept-admin in its department)')
    .argument('<user>', 'lower-case user name')
    .addOption(roleOption('role of the user').makeOptionMandatory())
    .option('--department <code>', 'department of a dept-* user (default: yours)')
    .option('--display-name <name>', 'name shown to people (default: the user name)')
    .option('--email <address>', 'e-mail address')
    .addOption(passwordOption())
    .action(
      act<UserFields & { department?: string }>(async (ctx, opts, username) => {
        const u = await ctx.api.post<User>('/users', {
          username,
          displayName: opts.displayName ?? username,
          email: opts.email || undefined,
          role: opts.role,
          department: opts.department,
          password: opts.passwordStdin ? await readSecretFromStdin() : undefined,
        });
        ctx.print(u, () => show(u));
      }),
    );

  users
    .command('update')
    .description('change a user; --disable also stops its tokens working')
    .argument('<user>', 'user name')
    .addOption(roleOption('new role'))
    .addOption(new Option('--disable', 'stop the user signing in').conflicts('enable'))
    .option('--enable', 'let a disabled user sign in again')
    .option('--display-name <name>', 'new display name')
    .option('--email <address>', 'new e-mail address')
    .option('--no-email', 'remove the e-mail address')
    .addOption(passwordOption())
    .action(
      act<UserFields & { disable?: boolean; enable?: boolean }>(async (ctx, opts, username) => {
        const body = patchOf(
          {
            role: opts.role,
            disabled: opts.disable ? true : opts.enable ? false : undefined,
            displayName: opts.displayName,
            email: opts.email === false ? null : opts.email,
            password: opts.passwordStdin ? await readSecretFromStdin() : undefined,
          },
          'at least one of --role, --disable, --enable, --display-name, --email, --password-stdin',
        );
        const u = await ctx.api.patch<User>(path(username), body);
        ctx.print(u, () => show(u));
      }),
    );
}
