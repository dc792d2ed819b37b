import { resolveService } from '../catalog/service.logic.ts';
import { DomainError } from '../platform/errors.ts';
import { authorize, type Caller, departmentScope } from '../tenancy/principal.ts';
import type { CutoverDeps } from './cutover.logic.ts';
import * as repo from './cutover.repository.ts';
import type { Comparison, CutoverWatch } from './cutover.watch.ts';

const NONE = { requests: 0, errors5xx: 0, errorRate: null, latencyMs: { p50: 0, p95: 0, mean: 0 } };

/**
 * Legacy and new side by side for a service in parallel run, from the router's counters (the
 * runtime's watch); a department user sees its own services'.
 */
export async function compareCutover(
  deps: Pick<CutoverDeps, 'db'>,
  watch: CutoverWatch | null,
  caller: Caller,
  department: string,
  slug: string,
): Promise<Comparison> {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'monitoring:read');
  const row = await repo.find(deps.db, departmentScope(caller), svc.id);
  if (!row)
    throw new DomainError('GOVHOST_CUTOVER_NOT_FOUND', `${department}/${slug} fronts no legacy upstream`);
  if (!watch) throw new DomainError('GOVHOST_NOT_READY', 'this platform process runs no router to measure');
  const key = `${row.department_code}/${row.slug}`;
  return watch.compare(row) ?? { service: key, percent: row.percent, windowSec: 0, new: NONE, legacy: NONE };
}
