import { type Command, Option } from 'commander';
import type { ApiClient, Query } from './client.ts';
import type { Ctx } from './context.ts';
import { integer } from './options.ts';
import { type Column, table } from './output.ts';

/** One page of a list endpoint, as the API answers it. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface PageOptions {
  limit?: number;
  offset?: number;
  all?: boolean;
}

// The API's own bounds for limit and offset, so a wrong value is a usage error before any request.
const MAX_LIMIT = 500;
const MAX_OFFSET = 1_000_000;

/** Adds `--limit`, `--offset` and `--all` to a list command. */
export function withPaging(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--limit <n>', `items per page, 1-${MAX_LIMIT} (default 50)`).argParser(
        integer(1, MAX_LIMIT),
      ),
    )
    .addOption(new Option('--offset <n>', 'items to skip').argParser(integer(0, MAX_OFFSET)))
    .addOption(new Option('--all', 'fetch every page').conflicts(['limit', 'offset']));
}

/** The page the options ask for, or with --all every page joined into one. */
export async function fetchPage<T>(api: ApiClient, path: string, query: Query, opts: PageOptions) {
  if (!opts.all) return api.get<Page<T>>(path, { ...query, limit: opts.limit, offset: opts.offset });
  const items: T[] = [];
  for (;;) {
    const page = await api.get<Page<T>>(path, { ...query, limit: MAX_LIMIT, offset: items.length });
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total) {
      return { items, total: page.total, limit: items.length, offset: 0 };
    }
  }
}

/** Prints a page as a table (or JSON), and tells people when more items lie beyond it. */
export function printPage<T>(ctx: Ctx, page: Page<T>, noun: string, columns: Column<T>[]): void {
  ctx.print(page, () => (page.items.length === 0 ? `no ${noun}` : table(page.items, columns)));
  const end = page.offset + page.items.length;
  if (page.items.length > 0 && end < page.total) {
    ctx.note(`${page.offset + 1}-${end} of ${page.total} ${noun}; see more with --offset ${end}, or --all`);
  }
}
