import { Command, CommanderError } from 'commander';
import { registerAcmeCommands } from './commands/acme.ts';
import {
  registerAlertCommands,
  registerChannelCommands,
  registerIncidentCommands,
} from './commands/alerting.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerCapacityCommands } from './commands/capacity.ts';
import { registerCapacityReportCommands } from './commands/capacity-reports.ts';
import { registerCertCommands } from './commands/certs.ts';
import { registerCutoverCommands } from './commands/cutover.ts';
import { registerDepartmentCommands } from './commands/departments.ts';
import { registerDeployCommands } from './commands/deploy.ts';
import { registerDomainCommands } from './commands/domains.ts';
import { registerEnvCommands } from './commands/env.ts';
import { registerFinanceCommands } from './commands/finance.ts';
import { registerKubernetesCommands } from './commands/kubernetes.ts';
import { registerMaintenanceCommands } from './commands/maintenance.ts';
import { registerMetricsCommands } from './commands/metrics.ts';
import { registerMigrationCommands } from './commands/migration.ts';
import { registerPaymentCommands } from './commands/payments.ts';
import { registerReportCommands } from './commands/reports.ts';
import { registerRequestCommands } from './commands/requests.ts';
import { registerRuntimeCommands } from './commands/runtime.ts';
import { registerServerCommands } from './commands/server.ts';
import { registerServiceCommands } from './commands/services.ts';
import { registerSessionCommands } from './commands/session.ts';
import { registerSignInCommands } from './commands/sign-ins.ts';
import { registerStageJobCommands } from './commands/stage-job.ts';
import { registerTicketCommands } from './commands/tickets.ts';
import { registerTokenCommands } from './commands/tokens.ts';
import { registerUserCommands } from './commands/users.ts';
import { registerWorkloadCommands } from './commands/workload.ts';
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

registerServerCommands(program);
registerBackupCommands(program);
registerSessionCommands(program);
registerSignInCommands(program);
registerDepartmentCommands(program);
registerUserCommands(program);
registerTokenCommands(program);
registerServiceCommands(program);
registerAuditCommands(program);
registerDeployCommands(program);
registerEnvCommands(program);
registerRuntimeCommands(program);
registerAlertCommands(program);
registerIncidentCommands(program);
registerChannelCommands(program);
registerAcmeCommands(program);
registerMaintenanceCommands(program);
registerReportCommands(program);
registerMetricsCommands(program);
registerRequestCommands(program);
registerWorkloadCommands(program);
registerKubernetesCommands(program);
registerStageJobCommands(program);
registerCapacityReportCommands(program);
registerCapacityCommands(program);
registerPaymentCommands(program);
registerCertCommands(program);
registerTicketCommands(program);
registerDomainCommands(program);
// The router cut-over's commands (`migration front|shift|back|…`) join this group.
registerMigrationCommands(program);
registerCutoverCommands(program);
registerFinanceCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof CliError) fail(err.message, err.exitCode);
  fail((err as Error).message);
}
