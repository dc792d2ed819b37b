import type { Command } from 'commander';
import { act } from '../context.ts';
import { fetchPage, type PageOptions, printPage, withPaging } from '../lists.ts';
import { patchOf } from '../options.ts';
import { record, when } from '../output.ts';

interface Department {
  code: string;
  nameEn: string;
  nameZh: string;
  createdAt: string;
  updatedAt: string;
}

interface Names {
  nameEn?: string;
  nameZh?: string;
}

const show = (d: Department) =>
  record([
    ['code', d.code],
    ['name (en)', d.nameEn],
    ['name (zh)', d.nameZh],
    ['created', when(d.createdAt)],
    ['updated', when(d.updatedAt)],
  ]);

const path = (code: string) => `/departments/${encodeURIComponent(code)}`;

/** `govhost departments ...`: the tenants of the platform. */
export function registerDepartmentCommands(program: Command): void {
  const departments = program.command('departments').description('government departments on the platform');

  withPaging(
    departments.command('list').description('list departments (yours, for a department user)'),
  ).action(
    act<PageOptions>(async (ctx, opts) => {
      const page = await fetchPage<Department>(ctx.api, '/departments', {}, opts);
      printPage(ctx, page, 'departments', [
        ['code', (d) => d.code],
        ['name (en)', (d) => d.nameEn],
        ['name (zh)', (d) => d.nameZh],
      ]);
    }),
  );

  departments
    .command('show')
    .description('show a department')
    .argument('<code>', 'department code, e.g. IRD')
    .action(
      act(async (ctx, _opts, code) => {
        const d = await ctx.api.get<Department>(path(code));
        ctx.print(d, () => show(d));
      }),
    );

  departments
    .command('create')
    .description('create a department (platform-admin)')
    .argument('<code>', 'upper-case code, 2-10 letters and digits, e.g. IRD')
    .requiredOption('--name-en <name>', 'English name')
    .requiredOption('--name-zh <name>', 'Chinese name')
    .action(
      act<Required<Names>>(async (ctx, opts, code) => {
        // The API creates only upper-case codes (and finds them in any case), so spare people the shift key.
        const d = await ctx.api.post<Department>('/departments', { code: code.toUpperCase(), ...opts });
        ctx.print(d, () => show(d));
      }),
    );

  departments
    .command('update')
    .description('rename a department (platform-admin)')
    .argument('<code>', 'department code')
    .option('--name-en <name>', 'new English name')
    .option('--name-zh <name>', 'new Chinese name')
    .action(
      act<Names>(async (ctx, opts, code) => {
        const body = patchOf({ nameEn: opts.nameEn, nameZh: opts.nameZh }, '--name-en or --name-zh');
        const d = await ctx.api.patch<Department>(path(code), body);
        ctx.print(d, () => show(d));
      }),
    );

  departments
    .command('delete')
    .description('delete a department that has no users or services (platform-admin)')
    .argument('<code>', 'department code')
    .action(
      act(async (ctx, _opts, code) => {
        await ctx.api.delete(path(code));
        ctx.print(undefined, () => `Deleted department ${code.toUpperCase()}.`);
      }),
    );
}
