// How a bench that starts processes runs: `--help` prints the comment at the top of its file (its
// manual), Ctrl-C and failures still end what it started, and a failure sets the exit code.
import { readFileSync } from 'node:fs';

/**
 * Runs `main` of the bench whose module URL is `manual`, then `cleanup` whatever happened;
 * `lastWords` prints what helps to explain a failure (after the error itself).
 */
export async function runBench({ manual, main, cleanup, lastWords = () => {} }) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    const lines = readFileSync(new URL(manual), 'utf8').split('\n').slice(1);
    const head = lines.slice(
      0,
      lines.findIndex((l) => !l.startsWith('//')),
    );
    console.log(head.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    await cleanup();
    process.exit(0);
  }
  process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
  try {
    await main();
  } catch (err) {
    console.error(err);
    lastWords();
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
