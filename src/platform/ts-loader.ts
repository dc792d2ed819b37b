/**
 * How a process GovHost starts from its TypeScript sources (the router, a test's helper) loads
 * them: the project's own module hooks (bin/ts-loader.mjs, docs/decisions/053). As a file URL,
 * so that it works from any working directory and in NODE_OPTIONS whatever the path holds.
 */
export const TS_LOADER = new URL('../../bin/ts-loader.mjs', import.meta.url).href;

/** The node flags that come before a .ts entry point: `node ...TS_NODE_ARGS main.ts`. */
export const TS_NODE_ARGS = ['--import', TS_LOADER] as const;
