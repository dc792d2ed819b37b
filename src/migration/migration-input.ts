import { resolveService } from '../catalog/service.logic.ts';
import type { Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import type { Principal } from '../tenancy/principal.ts';
import type * as repo from './migration.repository.ts';
import { COMPLEXITIES, type Complexity } from './migration.tables.ts';

/** An item as a person gives it, through the API or as a CSV row. */
export interface ItemInput {
  /** The owner's code; a department user may leave it out (their own). */
  department?: string;
  ref: string;
  name: string;
  sourcePlatform: string;
  legacyUrl?: string | null;
  contacts?: string[];
  technology?: string | null;
  dataSizeGb?: number | null;
  /** low, medium or high; left out (null) until the item is assessed. */
  complexity?: Complexity | null;
  /** The GovHost service's slug, in the item's department. */
  targetService?: string | null;
  wave?: number | null;
  plannedOn?: string | null;
  /** `ref` in the same department, or `DEPT/ref`. */
  dependsOn?: string[];
}

/** One thing wrong with an input, named by the field a person would correct. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** An input checked and resolved to what the store holds; dependencies still as `DEPT/ref`. */
export interface PreparedItem {
  departmentId: string;
  departmentCode: string;
  values: {
    ref: string;
    name: string;
    source_platform: string;
    legacy_url: string | null;
    contacts: string[];
    technology: string | null;
    data_size_gb: number | null;
    complexity: Complexity | null;
    target_service_id: string | null;
    wave_id: string | null;
    planned_on: string | null;
  };
  dependsOn: string[];
}

export const REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const isDay = (s: string) => {
  const d = new Date(`${s}T00:00:00Z`);
  return DAY.test(s) && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
};

/** `ref` or `DEPT/ref` as `DEPT/ref`, upper-casing the department. */
export function qualify(ref: string, departmentCode: string): string {
  const at = ref.indexOf('/');
  return at < 0 ? `${departmentCode}/${ref}` : `${ref.slice(0, at).toUpperCase()}/${ref.slice(at + 1)}`;
}

function legacyUrlProblem(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http:// or https:// URL';
    return null;
  } catch {
    return 'is not a URL';
  }
}

/**
 * Checks an input and resolves its department, target service and wave as `caller` may see
 * them. Returns every problem it finds (a CSV row's errors all at once), or the prepared item.
 */
export async function prepareItem(
  db: Executor,
  caller: Principal,
  input: ItemInput,
  waves: Map<number, repo.WaveRow>,
): Promise<{ item?: PreparedItem; problems: FieldProblem[] }> {
  const problems: FieldProblem[] = [];
  const bad = (field: string, message: string) => problems.push({ field, message });
  const code = input.department?.trim() || caller.departmentCode;
  let dept: { id: string; code: string } | null = null;
  if (!code) bad('department', 'is required for a platform user');
  else {
    try {
      dept = await resolveDepartment(db, caller, code);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      bad('department', `${code}: ${err.message}`);
    }
  }
  const ref = input.ref.trim();
  if (!REF_PATTERN.test(ref))
    bad('ref', `${JSON.stringify(ref)} must be 1-64 letters, digits, '.', '_' or '-'`);
  const name = input.name.trim();
  if (!name || name.length > 200) bad('name', 'must be 1-200 characters');
  const source = input.sourcePlatform.trim();
  if (!source || source.length > 60) bad('sourcePlatform', 'must be 1-60 characters');
  const legacyUrl = input.legacyUrl?.trim() || null;
  if (legacyUrl) {
    const p = legacyUrlProblem(legacyUrl);
    if (p) bad('legacyUrl', `${JSON.stringify(legacyUrl)} ${p}`);
  }
  const complexity = input.complexity || null;
  if (complexity !== null && !(COMPLEXITIES as readonly string[]).includes(complexity))
    bad('complexity', `${JSON.stringify(input.complexity)} is not one of ${COMPLEXITIES.join(', ')}`);
  const size = input.dataSizeGb ?? null;
  if (size !== null && !(Number.isFinite(size) && size >= 0))
    bad('dataSizeGb', 'must be a number of GB, 0 or more');
  const plannedOn = input.plannedOn?.trim() || null;
  if (plannedOn && !isDay(plannedOn))
    bad('plannedOn', `${JSON.stringify(plannedOn)} is not a day written YYYY-MM-DD`);
  let wave: repo.WaveRow | null = null;
  if (input.wave !== undefined && input.wave !== null) {
    wave = waves.get(input.wave) ?? null;
    if (!wave)
      bad('wave', `there is no wave ${input.wave} (waves: ${[...waves.keys()].join(', ') || 'none yet'})`);
    else if (
      plannedOn &&
      isDay(plannedOn) &&
      (plannedOn < wave.planned_start || plannedOn > wave.planned_end)
    )
      bad(
        'plannedOn',
        `${plannedOn} is outside wave ${wave.number} (${wave.planned_start} to ${wave.planned_end})`,
      );
  }
  let targetId: string | null = null;
  const target = input.targetService?.trim() || null;
  if (target && dept) {
    try {
      targetId = (await resolveService(db, caller, dept.code, target)).id;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      bad('targetService', err.message);
    }
  }
  const dependsOn = [...new Set((input.dependsOn ?? []).map((d) => d.trim()).filter(Boolean))].map((d) =>
    qualify(d, dept?.code ?? ''),
  );
  if (dept && dependsOn.includes(`${dept.code}/${ref}`)) bad('dependsOn', 'an item cannot depend on itself');
  if (!dept || problems.length > 0) return { problems };
  return {
    problems,
    item: {
      departmentId: dept.id,
      departmentCode: dept.code,
      values: {
        ref,
        name,
        source_platform: source,
        legacy_url: legacyUrl,
        contacts: (input.contacts ?? []).map((c) => c.trim()).filter(Boolean),
        technology: input.technology?.trim() || null,
        data_size_gb: size,
        complexity,
        target_service_id: targetId,
        wave_id: wave?.id ?? null,
        planned_on: plannedOn,
      },
      dependsOn,
    },
  };
}
