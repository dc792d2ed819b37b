import type { BackupRouteDeps } from '../backup/backup.routes.ts';
import type { CatalogRouteDeps } from '../catalog/catalog.routes.ts';
import type { EdgeRouteDeps } from '../edge/certificates.routes.ts';
import type { CutoverWatch } from '../migration/cutover.watch.ts';
import type { AlertingRouteDeps } from '../monitoring/alerting.routes.ts';
import type { StatusRouteDeps } from '../monitoring/status.routes.ts';
import type { RouterTrust } from '../payments/live-mode.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import type { RuntimeDeps } from '../runtime/runtime.logic.ts';

/** Everything the route plugins are given: the composition root builds it once. */
export interface AppDeps
  extends RouteDeps,
    BackupRouteDeps,
    CatalogRouteDeps,
    AlertingRouteDeps,
    StatusRouteDeps,
    EdgeRouteDeps {
  /** The local runtime, when this process runs one (API-only tests do not). */
  runtime?: RuntimeDeps | null;
  /** The cut-overs' legacy-and-new figures, where this process runs the runtime (a getter). */
  cutoverWatch?: CutoverWatch | null;
  /** The router this process runs, for live payment keys (decision 049); null or absent: none. */
  routerTrust?: () => RouterTrust | null;
}
