/**
 * The Node.js flags a control-plane process runs with, wherever it is started: the `govhost`
 * command's shebang, `npm start`, the Kubernetes install manifests (node-flags.test.ts keeps them
 * in step). Measured with bench/idle.mjs (docs/benchmarks.md, decision 029):
 * - a young generation of 2 MiB semi-spaces instead of V8's default 16 MiB: a burst of API
 *   requests grows the default one to 32 MiB of touched memory that an idle server never gives
 *   back (about 40 MB of an idle server's RSS);
 * - `--optimize-for-size`: V8 favours memory over speed (tighter heap growth, compaction,
 *   bytecode flushing): about 19 MB more, with no rise in idle CPU.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=2', '--optimize-for-size'] as const;
