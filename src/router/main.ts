/**
 * The router process: `node --import ./bin/ts-loader.mjs src/router/main.ts`. Runs apart from the control
 * plane so that citizens' traffic keeps flowing while the API restarts or upgrades.
 */
import { ConfigError } from '../platform/config.ts';
import { installCrashGuard } from './crash-guard.ts';
import { stderrLog } from './log.ts';
import { startRouter } from './router.ts';
import { ROUTER_SECRETS, routerOptionsFromEnv } from './router-config.ts';

let options: ReturnType<typeof routerOptionsFromEnv>;
try {
  options = routerOptionsFromEnv(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`govhost router: ${err.message}\n`);
  process.exit(2);
}
// Read once, then out of the environment: proxy workers (node:cluster) inherit this process's
// environment, and they parse citizens' untrusted bytes; they need neither secret.
for (const secret of ROUTER_SECRETS) delete process.env[secret];

const router = await startRouter({ ...options, log: stderrLog }).catch((err: Error) => {
  process.stderr.write(`govhost router: cannot start: ${err.message}\n`);
  process.exit(1);
});
// The one line on stdout: whoever started us waits for it and reads the real ports from it.
process.stdout.write(
  `${JSON.stringify({ msg: 'router ready', port: router.port, httpsPort: router.httpsPort, adminPort: router.adminPort, pid: process.pid })}\n`,
);

installCrashGuard(
  stderrLog,
  (graceMs) => router.close(graceMs),
  Math.min(options.shutdownGraceMs ?? 30_000, 10_000),
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    // A second signal means "now": whoever sent it has given up waiting.
    stderrLog.warn({ signal }, 'second signal: exiting without waiting');
    process.exit(1);
  }
  stopping = true;
  stderrLog.info({ signal, graceMs: options.shutdownGraceMs }, 'router stopping');
  router.close().then(
    () => process.exit(0),
    (err: Error) => {
      stderrLog.error({ err: err.message }, 'router stop failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
