import type { Command } from 'commander';
import { CliError } from '../errors.ts';

/**
 * `govhost stage-job`: the entry point of a staging Job's container (decision 027); it reads its
 * request from the environment the Job gives it, and is of no use elsewhere.
 */
export function registerStageJobCommands(program: Command): void {
  program
    .command('stage-job')
    .description(
      'stage a bundle inside a staging Job on Kubernetes (the control plane starts it; reads GOVHOST_STAGE_REQUEST and GOVHOST_STAGE_DIR)',
    )
    .action(async () => {
      // Loaded here, not at the top: every other `govhost` command would pay for the build code.
      const { runStageJob, stageJobRequestFromEnv } = await import('../../build/stage-job.ts');
      let parsed: ReturnType<typeof stageJobRequestFromEnv>;
      try {
        parsed = stageJobRequestFromEnv(process.env);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      process.exitCode = await runStageJob(parsed.request, parsed.workDir, process.stdout);
    });
}
