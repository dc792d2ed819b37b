import { redraw } from './output.ts';

/** A one-line progress bar on stderr, redrawn in place on a terminal and printed once otherwise. */
export function progressBar(label: string, total: number) {
  const tty = process.stderr.isTTY === true;
  const width = 30;
  let lastDrawn = -1;
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return {
    update(done: number) {
      if (!tty) return;
      const pct = total === 0 ? 100 : Math.min(100, Math.floor((done / total) * 100));
      if (pct === lastDrawn) return;
      lastDrawn = pct;
      const filled = Math.round((pct / 100) * width);
      redraw(`${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% of ${mib(total)}`);
    },
    finish() {
      process.stderr.write(tty ? '\n' : `${label}: ${mib(total)} sent\n`);
    },
    /** After a failed upload: ends a bar drawn on a terminal, so the error starts on its own line. */
    abandon() {
      if (tty && lastDrawn >= 0) process.stderr.write('\n');
    },
  };
}
