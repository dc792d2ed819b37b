import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { checkChainKey } from '../audit/audit.logic.ts';
import { auditKeyOf } from '../audit/audit-key.ts';
import { LeaseKeeper } from '../cluster/lease.ts';
import { checkSharedKey } from '../cluster/shared-keys.ts';
import type { CertificateSink } from '../edge/acme.job.ts';
import { certificateStoreSink, startAcme } from '../edge/acme.start.ts';
import { startUploadedExpiryCheck } from '../edge/certificate-expiry.ts';
import { startBudgetWatch } from '../finance/budget.logic.ts';
import { routedCutovers } from '../migration/cutover.logic.ts';
import { startCutoverWatch } from '../migration/cutover.start.ts';
import type { CutoverWatch } from '../migration/cutover.watch.ts';
import { type RunningAlerting, startAlerting } from '../monitoring/alerting.start.ts';
import { certificateAlerts } from '../monitoring/certificate-alerts.ts';
import { type RunningMonitoring, startMonitoring } from '../monitoring/monitoring.start.ts';
import { startPaymentExpiry } from '../payments/expiry.job.ts';
import { paymentProviders, sandboxModes } from '../payments/live-mode.ts';
import { payHostRoute } from '../payments/pay-host.ts';
import { startPaymentReconciliation } from '../payments/reconcile.job.ts';
import { WEBHOOK_SENDER } from '../payments/webhook.events.ts';
import { paymentWebhookSender } from '../payments/webhook.sender.ts';
import type { Config } from '../platform/config.ts';
import { makeDataDirPrivate } from '../platform/data-dir.ts';
import { lockDataDir } from '../platform/lockfile.ts';
import { notify } from '../platform/notify.ts';
import { loadKey } from '../platform/secrets.ts';
import { RUNTIME_CHANNEL, type RunningRuntime, startRuntime } from '../runtime/runtime.start.ts';
import { storedRuntimeDeps } from '../runtime/stored-work.ts';
import { startSlaWatch } from '../support/sla.job.ts';
import { bootstrapAdmin } from '../tenancy/bootstrap.ts';
import { buildApp } from './app.ts';
import { migrateToLatest } from './migrations.ts';
import { openStore } from './store.ts';

export interface RunningPlatform {
  app: FastifyInstance;
  url: string;
  routerUrl: string | null;
  /** `stopServices` false leaves instances and router running, to be adopted by the next start. */
  close(stopServices?: boolean): Promise<void>;
}

/** How often uploaded certificates are checked for expiry (alerts count days, so hourly is plenty). */
const EXPIRY_CHECK_MS = 3_600_000;

/** Opens the store, migrates it, creates the first admin if there is none, and listens. */
export async function startPlatform(
  config: Config,
  opts: {
    onFirstAdmin?: (admin: { username: string; token: string }, url: string) => void;
    logger?: boolean;
    /** Run the local runtime (supervisor, router); off for API-only uses. */
    runtime?: boolean;
    /** Where ACME certificates go instead of the certificate store (tests that watch issuance). */
    certificateSink?: CertificateSink;
  } = {},
): Promise<RunningPlatform> {
  // Before anything is created: the umask, and the data folder private (repaired if it was not).
  const repaired = makeDataDirPrivate(config.dataDir, config.appsDir);
  const unlock = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  try {
    const store = await openStore(config);
    try {
      await migrateToLatest(store.db);
      await checkChainKey(store.db);
      if (store.kind === 'postgres') {
        // Replicas share the store: each must seal and chain with the same keys as the others.
        const secret = loadKey(join(config.dataDir, 'secret.key'), config.secretKey, 'GOVHOST_SECRET_KEY');
        await checkSharedKey(store.db, 'secret', secret, 'GOVHOST_SECRET_KEY');
        await checkSharedKey(store.db, 'audit', auditKeyOf(store.db)!, 'GOVHOST_AUDIT_KEY');
      }
      const admin = await bootstrapAdmin(store.db);
      let runtime: RunningRuntime | null = null;
      let monitoring: RunningMonitoring | null = null;
      let alerting: RunningAlerting | null = null;
      let cutoverWatch: CutoverWatch | null = null;
      // Known once the API listens (after the runtime started): the payment host routes to it.
      let platformUrl: string | null = null;
      // On a replica that does not hold the runtime lease, the API queues the work for the holder.
      const queued =
        opts.runtime === false
          ? null
          : storedRuntimeDeps(config, store.db, () => notify(store.db, RUNTIME_CHANNEL));
      const app = await buildApp(
        {
          db: store.db,
          config,
          store,
          get runtime() {
            return runtime?.deps ?? queued;
          },
          // Read at call time: the runtime starts after the routes are registered.
          onLifecycle: async (svc, state) => (runtime?.deps ?? queued)?.work.applyLifecycle(svc, state),
          // Certificates, HTTPS settings and custom host names reach the route table the same way
          // (decisions 031 and 032).
          onEdgeChange: async () => (runtime?.deps ?? queued)?.work.edgeChanged(),
          get monitoring() {
            return monitoring?.engine ?? null;
          },
          get alerting() {
            return alerting;
          },
          get cutoverWatch() {
            return cutoverWatch;
          },
          // Live payment keys (decision 049): the router's key and whether it serves HTTPS.
          routerTrust: () => {
            const router = (runtime as RunningRuntime | null)?.router();
            return router ? { platformKey: router.platformKey, servesHttps: router.servesHttps } : null;
          },
        },
        opts.logger === undefined ? {} : { logger: opts.logger },
      );
      if (config.paymentsLiveProviderUrl === 'sandbox') {
        app.log.warn(
          'live payment keys go to the SANDBOX provider (GOVHOST_PAYMENTS_LIVE_PROVIDER_URL=sandbox): no real money moves; for rehearsals and tests only',
        );
      }
      if (repaired > 0) {
        app.log.warn(
          { dataDir: config.dataDir, entries: repaired },
          'the data folder was readable by other users: made it private to the platform',
        );
      }
      // Replicas on PostgreSQL leave instances and router running when they stop (the next holder
      // adopts them); PGlite's only process stops them on a clean shutdown, as it always has. On
      // Kubernetes, Deployments run without the control plane: its stop (a rolling upgrade, a pod
      // moved) never takes the hosted services down with it, whatever the store.
      let stopServicesOnRelease = store.kind === 'pglite' && config.runtime !== 'kubernetes';
      // The runtime, with everything that must run once (probes, alerts, the outbox, roll-ups,
      // retention, capacity reconciliation, route publication), runs on the runtime lease's holder.
      const keeper =
        opts.runtime === false
          ? null
          : new LeaseKeeper({
              db: store.db,
              name: 'runtime',
              holder: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
              log: app.log,
              exclusive: store.kind === 'pglite',
              onAcquired: async (lease) => {
                const rt = await startRuntime(config, store.db, app.log, lease, {
                  cutovers: () =>
                    routedCutovers({ db: store.db, config }, (service, why) =>
                      app.log.warn({ service, why }, 'cut-over left out of the routes'),
                    ),
                  platformRoutes: () => (platformUrl ? [payHostRoute(config, platformUrl)] : []),
                });
                const mon = await startMonitoring(config, store.db, rt, app.log);
                const cw = startCutoverWatch(config, store.db, rt, app.log);
                const al = await startAlerting({
                  db: store.db,
                  config,
                  box: rt.deps.box,
                  events: mon.engine,
                  log: app.log,
                  // Payments' webhooks leave from the same outbox, through this platform's router.
                  senders: {
                    [WEBHOOK_SENDER]: paymentWebhookSender({
                      db: store.db,
                      box: rt.deps.box,
                      routerUrl: () => rt.routerUrl,
                      routerHttpsUrl: () => rt.routerHttpsUrl,
                    }),
                  },
                });
                const certAlerts = certificateAlerts(store.db, config.domain, (hostname, message) =>
                  app.log.warn({ hostname }, message),
                );
                // Uploaded certificates near expiry raise the services' alerts, ACME or not.
                const expiry = startUploadedExpiryCheck(
                  store.db,
                  {
                    domain: config.domain,
                    alertBeforeDays: config.acmeAlertBeforeDays,
                    alerts: certAlerts,
                    everyMs: EXPIRY_CHECK_MS,
                  },
                  app.log,
                );
                // ACME (decision 033): with a directory configured; certificates go to the store.
                const acme = config.acmeDirectoryUrl
                  ? startAcme({
                      config,
                      db: store.db,
                      box: rt.deps.box,
                      sink:
                        opts.certificateSink ??
                        certificateStoreSink({
                          db: store.db,
                          box: rt.deps.box,
                          changed: async () => void (await rt.orchestrator.refreshEdge()),
                        }),
                      alerts: certAlerts,
                      publish: (challenges) => rt.orchestrator.publishAcmeChallenges(challenges),
                      log: app.log,
                    })
                  : null;
                // The support desk's SLA watch: one per platform, like the alerts it notifies beside.
                const slaWatch = startSlaWatch(config, store.db, app.log);
                // Unpaid payments expire once per platform, like the SLA watch.
                const paymentExpiry = startPaymentExpiry(config, store.db, app.log);
                // Finance's budget watch, likewise once per platform: it tells each threshold once.
                const budgetWatch = startBudgetWatch(store.db, app.log);
                // Payments' reconciliation: one per platform too; its writes are conditional anyway.
                const providers = paymentProviders(config);
                const reconciliation =
                  providers.test || providers.live
                    ? startPaymentReconciliation(
                        {
                          db: store.db,
                          provider: providers.test,
                          liveProvider: providers.live,
                          modes: sandboxModes(config),
                        },
                        app.log,
                      )
                    : null;
                runtime = rt;
                monitoring = mon;
                alerting = al;
                cutoverWatch = cw;
                return async () => {
                  await acme?.stop();
                  await expiry.stop();
                  await slaWatch.stop();
                  await paymentExpiry.stop();
                  await budgetWatch.stop();
                  await reconciliation?.stop();
                  cutoverWatch = null;
                  await cw.stop();
                  runtime = null;
                  monitoring = null;
                  alerting = null;
                  // Probing stops first, so no alert fires while the dispatcher winds down.
                  await mon.stop();
                  await al.stop();
                  await rt.shutdown(stopServicesOnRelease);
                };
              },
            });
      await keeper?.start();
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `http://${host}:${port}`;
      platformUrl = url;
      await (runtime as RunningRuntime | null)?.orchestrator.pushRoutes();
      // Assigned by the lease's work, which the keeper's start awaited when it took the lease.
      const routerUrl = (runtime as RunningRuntime | null)?.routerUrl ?? null;
      // The first admin's token goes out before the ready line: whoever waits for "ready" (a
      // script, a test) then has everything the start printed.
      if (admin) opts.onFirstAdmin?.(admin, url);
      app.log.info({ url, routerUrl, store: store.kind, dataDir: config.dataDir }, 'GovHost is ready');
      return {
        app,
        url,
        routerUrl,
        close: async (stopServices = true) => {
          // Every step runs even when one before it fails: the store is closed and the data
          // folder unlocked whatever happened, and the first failure is reported after.
          let failure: unknown = null;
          const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
            try {
              await fn();
            } catch (err) {
              app.log.error({ err: (err as Error).message }, `shutdown: cannot ${what}`);
              failure ??= err;
            }
          };
          await step('close the API', () => app.close());
          // Probing stops first, so no alert fires while the dispatcher winds down.
          stopServicesOnRelease &&= stopServices;
          await step('stop the runtime', () => keeper?.stop());
          await step('close the store', () => store.close());
          unlock();
          if (failure) throw failure;
        },
      };
    } catch (err) {
      await store.close();
      throw err;
    }
  } catch (err) {
    unlock();
    throw err;
  }
}
