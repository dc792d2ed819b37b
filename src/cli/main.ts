import { Command, CommanderError } from 'commander';
import { groupsFor } from './command-groups.ts';
import { CliError } from './errors.ts';
import { fail, guardTerminal } from './output.ts';

// First of all: nothing reaches the terminal unescaped, whichever command prints it.
guardTerminal();

const program = new Command('govhost')
  .description('GovHost: central hosting platform for e-government services')
  .version('0.1.0')
  .option('--json', "print the API's JSON instead of tables, for scripts")
  .option('--url <url>', 'GovHost address (default: GOVHOST_URL, then the stored login)')
  // A token on the command line shows in `ps`; the environment or the stored login does not.
  .option('--token <token>', 'API token (default: GOVHOST_TOKEN, then the stored login)')
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError()
  .exitOverride();

// `govhost services list | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  fail(`cannot write the output: ${err.message}`);
});

// The groups this command line needs, loaded together (command-groups.ts), registered in order.
for (const register of await Promise.all(groupsFor(process.argv.slice(2)).map((g) => g.load())))
  register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof CliError) fail(err.message, err.exitCode);
  fail((err as Error).message);
}
