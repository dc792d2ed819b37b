import { Command, CommanderError } from 'commander';
import { registerServerCommands } from './commands/server.ts';
import { fail } from './output.ts';

const program = new Command('govhost')
  .description('GovHost: central hosting platform for e-government services')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerServerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  fail((err as Error).message);
}
