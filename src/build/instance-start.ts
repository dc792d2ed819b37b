import type { DropletRun } from './build.tables.ts';
import { folderVars } from './builders/npm-scripts.ts';

/**
 * How an instance of a droplet starts in its own folder: the droplet's direct start (the `start`
 * script without npm) when the release's command is `npm start` and staging found it safe, else
 * the command as it is. `basePath` is the instance's PATH before the app's `node_modules/.bin`.
 */
export function instanceStart(
  run: DropletRun,
  command: string,
  workDir: string,
  basePath: string,
): { command: string; env: Record<string, string> } {
  if (command !== 'npm start' || !run.start) return { command, env: {} };
  return { command: run.start.script, env: { ...folderVars(workDir, basePath), ...run.start.env } };
}
