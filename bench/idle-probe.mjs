// Preloaded into the platform's processes by bench/idle.mjs (NODE_OPTIONS=--import): on SIGUSR2,
// writes process.memoryUsage() to `<GOVHOST_IDLE_PROBE_DIR>/<pid>.json`. A signal handler, not a
// timer, so the probe itself never wakes an idle process.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.GOVHOST_IDLE_PROBE_DIR;
if (dir) {
  process.on('SIGUSR2', () => {
    writeFileSync(
      join(dir, `${process.pid}.json`),
      JSON.stringify({ argv: process.argv, ...process.memoryUsage() }),
    );
  });
}
