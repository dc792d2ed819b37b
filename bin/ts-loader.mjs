// Runs GovHost's TypeScript sources: `node --import ./bin/ts-loader.mjs src/….ts`, and what
// bin/govhost.mjs and the test runner register for every process they start. Only the project's
// own .ts files go through the hooks (bin/ts-loader-hooks.mjs); see docs/decisions/053.
import { register } from 'node:module';

// Errors' stack traces name the .ts files and lines, through the source maps the hooks add.
process.setSourceMapsEnabled(true);
register('./ts-loader-hooks.mjs', import.meta.url);
