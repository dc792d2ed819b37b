import type { Db } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import { authorize, type Caller, departmentScope } from '../tenancy/principal.ts';
import { parseCsv } from './csv-parse.ts';
import { insertPrepared, resolveDependencies, wavesByNumber } from './migration.logic.ts';
import * as repo from './migration.repository.ts';
import type { Complexity } from './migration.tables.ts';
import { type ItemInput, type PreparedItem, prepareItem } from './migration-input.ts';

/** The CSV's columns, by header name; the first three are required. */
export const CSV_COLUMNS = [
  'ref',
  'name',
  'source_platform',
  'complexity',
  'department',
  'legacy_url',
  'contacts',
  'technology',
  'data_size_gb',
  'target_service',
  'wave',
  'planned_on',
  'depends_on',
] as const;
const REQUIRED = ['ref', 'name', 'source_platform'];

/** One error of an import, at a CSV line and column a person can find. */
export interface RowError {
  line: number;
  column: string | null;
  message: string;
}

const FIELD_COLUMN: Record<string, string> = {
  sourcePlatform: 'source_platform',
  legacyUrl: 'legacy_url',
  dataSizeGb: 'data_size_gb',
  targetService: 'target_service',
  plannedOn: 'planned_on',
  dependsOn: 'depends_on',
};

const list = (s: string | undefined) =>
  (s ?? '')
    .split(';')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * Imports a legacy inventory from CSV, all or nothing: every row is checked (department, target
 * service, wave, dates, dependencies on items in the file or already inventoried) and every
 * error is reported with its line and column; only a file without errors is written, in one
 * transaction. A department user imports into their own department.
 */
export async function importCsv(
  db: Db,
  caller: Caller,
  text: string,
): Promise<{ imported: number; items: string[] }> {
  authorize(caller, 'migration:write');
  const fail = (errors: RowError[]) =>
    new DomainError(
      'GOVHOST_MIGRATION_CSV',
      `${errors.length} error(s), nothing imported: ${errors
        .slice(0, 20)
        .map((e) => `\n  line ${e.line}${e.column ? ` ${e.column}` : ''}: ${e.message}`)
        .join(
          '',
        )}${errors.length > 20 ? `\n  … and ${errors.length - 20} more (rowErrors lists them all)` : ''}`,
      { rowErrors: errors },
    );
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (err) {
    const m = /^line (\d+): (.*)$/.exec((err as Error).message);
    throw fail([{ line: Number(m?.[1] ?? 1), column: null, message: m?.[2] ?? (err as Error).message }]);
  }
  const [header, ...rows] = records;
  if (!header) throw fail([{ line: 1, column: null, message: 'the file is empty: it needs a header line' }]);
  const columns = header.fields.map((h) => h.trim().toLowerCase());
  const errors: RowError[] = [];
  for (const c of columns)
    if (!(CSV_COLUMNS as readonly string[]).includes(c))
      errors.push({
        line: header.line,
        column: c,
        message: `unknown column (columns: ${CSV_COLUMNS.join(', ')})`,
      });
  for (const c of REQUIRED)
    if (!columns.includes(c))
      errors.push({ line: header.line, column: c, message: 'required column is missing' });
  if (rows.length === 0) errors.push({ line: header.line, column: null, message: 'the file has no rows' });
  if (errors.length) throw fail(errors);

  const waves = await wavesByNumber(db);
  const prepared: { line: number; item: PreparedItem }[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const at = (line: number, column: string | null, message: string) =>
      errors.push({ line, column, message });
    if (row.fields.length !== columns.length) {
      at(row.line, null, `has ${row.fields.length} fields; the header has ${columns.length}`);
      continue;
    }
    const v = Object.fromEntries(columns.map((c, i) => [c, (row.fields[i] ?? '').trim()]));
    const num = (c: string) => {
      if (!v[c]) return null;
      const n = Number(v[c]);
      if (!Number.isFinite(n)) at(row.line, c, `${JSON.stringify(v[c])} is not a number`);
      return Number.isFinite(n) ? n : null;
    };
    const wave = num('wave');
    if (wave !== null && !Number.isInteger(wave)) at(row.line, 'wave', `${v.wave} is not a wave number`);
    const input: ItemInput = {
      department: v.department || undefined,
      ref: v.ref ?? '',
      name: v.name ?? '',
      sourcePlatform: v.source_platform ?? '',
      legacyUrl: v.legacy_url || null,
      contacts: list(v.contacts),
      technology: v.technology || null,
      dataSizeGb: num('data_size_gb'),
      complexity: (v.complexity?.toLowerCase() || null) as Complexity | null,
      targetService: v.target_service || null,
      wave,
      plannedOn: v.planned_on || null,
      dependsOn: list(v.depends_on),
    };
    const { item, problems } = await prepareItem(db, caller, input, waves);
    for (const p of problems) at(row.line, FIELD_COLUMN[p.field] ?? p.field, p.message);
    if (!item) continue;
    const key = `${item.departmentCode}/${item.values.ref}`;
    const first = seen.get(key);
    if (first !== undefined) at(row.line, 'ref', `${key} is on line ${first} already`);
    else if (await repo.find(db, departmentScope(caller), item.departmentId, item.values.ref))
      at(row.line, 'ref', `${key} is inventoried already`);
    seen.set(key, first ?? row.line);
    prepared.push({ line: row.line, item });
  }
  // Dependencies: on a row of this file, or on an item the caller can already see.
  for (const { line, item } of prepared) {
    const outside = item.dependsOn.filter((d) => !seen.has(d));
    const { problems } = await resolveDependencies(db, caller, outside);
    for (const p of problems)
      errors.push({
        line,
        column: 'depends_on',
        message: `${p.message.split(':')[0]} is neither in this file nor inventoried`,
      });
  }
  if (errors.length) throw fail(errors.sort((a, b) => a.line - b.line));

  try {
    return await db.transaction().execute(async (trx) => {
      const ids = new Map<string, string>();
      for (const { item } of prepared)
        ids.set(`${item.departmentCode}/${item.values.ref}`, await insertPrepared(trx, caller, item));
      for (const { item } of prepared) {
        const own = ids.get(`${item.departmentCode}/${item.values.ref}`) as string;
        const outside = await resolveDependencies(
          trx,
          caller,
          item.dependsOn.filter((d) => !ids.has(d)),
        );
        await repo.setDependencies(trx, own, [
          ...item.dependsOn.filter((d) => ids.has(d)).map((d) => ids.get(d) as string),
          ...outside.ids,
        ]);
      }
      return { imported: prepared.length, items: [...ids.keys()] };
    });
  } catch (err) {
    // Another import took a reference between the check and the write: nothing was written.
    if (isUniqueViolation(err))
      throw fail([
        {
          line: 1,
          column: 'ref',
          message: 'an item of this file was inventoried meanwhile; nothing imported',
        },
      ]);
    throw err;
  }
}
