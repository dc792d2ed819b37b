#!/usr/bin/env -S node --max-semi-space-size=2 --optimize-for-size
// The flags: V8 tuned for a small footprint over speed, as an idle control plane wants it
// (decision 029). Keep in step with SERVER_NODE_FLAGS (src/platform/node-flags.ts).
// The govhost command. GovHost runs its TypeScript sources through its own module hooks (see
// ts-loader.mjs, docs/decisions/002 and 053).

// Everything GovHost writes (its store, keys, logs, the CLI's credentials) is private to the user
// running it: set before any module can create a file.
process.umask(0o077);
await import('./ts-loader.mjs');
await import('../src/cli/main.ts');
