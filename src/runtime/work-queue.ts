import type { FastifyBaseLogger } from 'fastify';
import type { LifecycleState } from '../catalog/catalog.tables.ts';
import * as releases from '../catalog/release.repository.ts';
import type { Db } from '../platform/database.ts';
import type { Orchestrator } from './orchestrator.ts';
import type { RuntimeWork, ServiceRef } from './runtime-work.ts';

/** How often the queue is read when no notification came (another replica's, or one lost). */
export const QUEUE_POLL_MS = 2_000;

/**
 * The runtime lease holder's side of the work queue. A deployment row in state `running` is an
 * item: written by whichever replica took the request, run here once. Requests this replica
 * takes run at once; the others arrive by notification (PostgreSQL LISTEN) or by the bounded
 * poll, and so do the items a dead holder left unfinished.
 */
export class WorkQueue implements RuntimeWork {
  /**
   * Deployments this holder has started, never forgotten while it holds the lease (a poll that
   * read a row before its rollout ended must not start it again); a few ids per deployment.
   */
  private readonly taken = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private pollAgain = false;
  private lifecycles = false;

  constructor(
    private readonly deps: {
      db: Db;
      orchestrator: Orchestrator;
      /** Aborted when this replica loses the runtime lease: it then writes nothing more. */
      signal?: AbortSignal;
      log: FastifyBaseLogger;
      /** Called after each piece of work ends: the live state is published again. */
      changed(): void;
    },
  ) {}

  /** Runs what is queued now, then every QUEUE_POLL_MS. */
  start(): void {
    this.kick(true);
    this.timer = setInterval(() => this.kick(false), QUEUE_POLL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
  }

  /** Reads the queue soon; `lifecycles` also applies lifecycle changes made through other replicas. */
  kick(lifecycles = false): void {
    this.lifecycles ||= lifecycles;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.poll().finally(() => {
      this.polling = null;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.kick();
      }
    });
  }

  private async poll(): Promise<void> {
    const { db, orchestrator, log } = this.deps;
    if (this.deps.signal?.aborted) return;
    try {
      if (this.lifecycles) {
        this.lifecycles = false;
        await orchestrator.syncLifecycles();
        // Another replica's change at the edge (certificates, HTTPS settings, custom host names)
        // arrives by the same notification.
        await orchestrator.refreshEdge();
        this.deps.changed();
      }
      for (const row of await releases.queuedDeployments(db)) {
        if (this.taken.has(row.id)) continue;
        const svc = { id: row.service_id, slug: row.slug, departmentCode: row.department_code };
        log.info(
          { deployment: row.id, kind: row.kind, service: `${svc.departmentCode}/${svc.slug}` },
          'queued work taken',
        );
        if (row.kind === 'scale') void this.scale(svc, row.id, row.replace_all);
        else if (row.release_id) void this.rollout(svc, row.id, row.release_id, { noCache: row.no_cache });
        else await releases.finishDeployment(db, row.id, 'failed', 'nothing to roll out');
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not read the work queue');
    }
  }

  rollout(svc: ServiceRef, deploymentId: string, releaseId: string, opts: { noCache?: boolean } = {}) {
    return this.run(deploymentId, () => this.deps.orchestrator.rollout(svc, deploymentId, releaseId, opts));
  }

  scale(svc: ServiceRef, deploymentId: string, replaceAll: boolean) {
    return this.run(deploymentId, () => this.deps.orchestrator.scale(svc, deploymentId, replaceAll));
  }

  async applyLifecycle(svc: ServiceRef, state: LifecycleState) {
    await this.deps.orchestrator.applyLifecycle(svc, state);
    this.deps.changed();
  }

  private async run(deploymentId: string, work: () => Promise<void>): Promise<void> {
    if (this.taken.has(deploymentId)) return;
    this.taken.add(deploymentId);
    try {
      await work();
    } catch (err) {
      if (this.deps.signal?.aborted) return;
      // Whatever ended it, the deployment says so rather than staying "running" for ever.
      await releases
        .finishDeployment(this.deps.db, deploymentId, 'failed', (err as Error).message)
        .catch(() => undefined);
    } finally {
      this.deps.changed();
    }
  }

  async edgeChanged() {
    await this.deps.orchestrator.refreshEdge();
    this.deps.changed();
  }

  instances(serviceId: string) {
    return this.deps.orchestrator.instances(serviceId);
  }
  runAs(serviceId: string) {
    return this.deps.orchestrator.runAs(serviceId);
  }
  isolation() {
    return this.deps.orchestrator.isolation();
  }
  logPath(instanceId: string) {
    return this.deps.orchestrator.logPath(instanceId);
  }
  readLog(instanceId: string, tail?: number) {
    return this.deps.orchestrator.readLog(instanceId, tail);
  }
  failedInstance(serviceId: string) {
    return this.deps.orchestrator.failedInstance(serviceId);
  }
}
