// The `build` script, run once at deploy (after the dependencies are installed, before the
// release starts): writes dist/build-info.json, which the server shows at /build-info. A real app
// would bundle its front end here; this one does something small that a test can see.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const express = JSON.parse(readFileSync('node_modules/express/package.json', 'utf8'));
const info = {
  app: pkg.name,
  version: pkg.version,
  express: express.version,
  node: process.version,
  builtAt: new Date().toISOString(),
};
mkdirSync('dist', { recursive: true });
writeFileSync('dist/build-info.json', `${JSON.stringify(info, null, 2)}\n`);
console.log(`build: wrote dist/build-info.json (${pkg.name} ${pkg.version}, express ${express.version})`);
