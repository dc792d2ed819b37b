/**
 * The Node.js flags a control-plane process runs with, wherever it is started: the `govhost`
 * command's shebang, `npm start`, the Kubernetes install manifests (node-flags.test.ts keeps them
 * in step). A young generation of 2 MiB semi-spaces instead of V8's default 16 MiB: a burst of API
 * requests grows the default one to 32 MiB of touched memory that an idle server never gives
 * back (about 30 MB of an idle server's RSS); the control plane allocates little, so the more
 * frequent scavenges cost nothing measurable (decision 029, docs/benchmarks.md).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=2'] as const;
