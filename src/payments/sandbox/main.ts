import { sandboxServer } from './sandbox.server.ts';

/**
 * The sandbox provider as its own process (`govhost payments sandbox`, or `node --import
 * ./bin/ts-loader.mjs src/payments/sandbox/main.ts`). Settings from the environment; it prints one JSON line with the
 * address it listens on, which is what a test or a supervisor waits for.
 */
export async function runSandbox(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const port = Number(env.GOVHOST_SANDBOX_PORT ?? 7090);
  const lateMs = Number(env.GOVHOST_SANDBOX_LATE_MS ?? 60_000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`GOVHOST_SANDBOX_PORT must be a port number, not ${env.GOVHOST_SANDBOX_PORT}`);
  if (!Number.isInteger(lateMs) || lateMs < 0)
    throw new Error(`GOVHOST_SANDBOX_LATE_MS must be milliseconds, not ${env.GOVHOST_SANDBOX_LATE_MS}`);
  const server = sandboxServer({
    journal: env.GOVHOST_SANDBOX_JOURNAL || null,
    lateMs,
  });
  const host = env.GOVHOST_SANDBOX_HOST ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(`${JSON.stringify({ sandbox: `http://${host}:${actual}` })}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => server.close(() => process.exit(0)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSandbox().catch((err: Error) => {
    process.stderr.write(`sandbox: ${err.message}\n`);
    process.exit(1);
  });
}
