import type { Command } from 'commander';

// Each `govhost` command is a process of its own, and most run one command of one group: loading
// every group's module (and what they import) on each start cost about 0.12 s of CPU of some 0.45
// (docs/decisions/050-cli-loads-its-command-group.md). So a command line loads the groups that add
// its command, and only a line that names none (`govhost`, `--help`, `help deploy`, a typo) loads
// them all, so that help and commander's own errors list every command.

/** A module of commands: the top-level commands it adds, and its register function. */
export interface CommandGroup {
  names: string[];
  load: () => Promise<(program: Command) => void>;
}

/** Every group, in the order `govhost --help` lists their commands (command-groups.test.ts checks the names). */
export const COMMAND_GROUPS: CommandGroup[] = [
  {
    names: ['server', 'admin'],
    load: async () => (await import('./commands/server.ts')).registerServerCommands,
  },
  {
    names: ['backup', 'restore'],
    load: async () => (await import('./commands/backup.ts')).registerBackupCommands,
  },
  {
    names: ['login', 'logout', 'whoami'],
    load: async () => (await import('./commands/session.ts')).registerSessionCommands,
  },
  { names: ['sign-ins'], load: async () => (await import('./commands/sign-ins.ts')).registerSignInCommands },
  {
    names: ['departments'],
    load: async () => (await import('./commands/departments.ts')).registerDepartmentCommands,
  },
  { names: ['users'], load: async () => (await import('./commands/users.ts')).registerUserCommands },
  { names: ['tokens'], load: async () => (await import('./commands/tokens.ts')).registerTokenCommands },
  { names: ['services'], load: async () => (await import('./commands/services.ts')).registerServiceCommands },
  { names: ['audit'], load: async () => (await import('./commands/audit.ts')).registerAuditCommands },
  {
    names: ['deploy', 'rollback', 'releases'],
    load: async () => (await import('./commands/deploy.ts')).registerDeployCommands,
  },
  { names: ['env'], load: async () => (await import('./commands/env.ts')).registerEnvCommands },
  {
    names: ['scale', 'status', 'logs'],
    load: async () => (await import('./commands/runtime.ts')).registerRuntimeCommands,
  },
  { names: ['alerts'], load: async () => (await import('./commands/alerting.ts')).registerAlertCommands },
  {
    names: ['incidents'],
    load: async () => (await import('./commands/alerting.ts')).registerIncidentCommands,
  },
  { names: ['channels'], load: async () => (await import('./commands/alerting.ts')).registerChannelCommands },
  { names: ['acme'], load: async () => (await import('./commands/acme.ts')).registerAcmeCommands },
  {
    names: ['maintenance'],
    load: async () => (await import('./commands/maintenance.ts')).registerMaintenanceCommands,
  },
  { names: ['report'], load: async () => (await import('./commands/reports.ts')).registerReportCommands },
  { names: ['metrics'], load: async () => (await import('./commands/metrics.ts')).registerMetricsCommands },
  { names: ['requests'], load: async () => (await import('./commands/requests.ts')).registerRequestCommands },
  {
    names: ['workload'],
    load: async () => (await import('./commands/workload.ts')).registerWorkloadCommands,
  },
  {
    names: ['kubernetes'],
    load: async () => (await import('./commands/kubernetes.ts')).registerKubernetesCommands,
  },
  {
    names: ['stage-job'],
    load: async () => (await import('./commands/stage-job.ts')).registerStageJobCommands,
  },
  {
    names: ['capacity'],
    load: async () => (await import('./commands/capacity-reports.ts')).registerCapacityReportCommands,
  },
  {
    names: ['farms', 'quota'],
    load: async () => (await import('./commands/capacity.ts')).registerCapacityCommands,
  },
  { names: ['payments'], load: async () => (await import('./commands/payments.ts')).registerPaymentCommands },
  { names: ['certs'], load: async () => (await import('./commands/certs.ts')).registerCertCommands },
  { names: ['tickets'], load: async () => (await import('./commands/tickets.ts')).registerTicketCommands },
  { names: ['domains'], load: async () => (await import('./commands/domains.ts')).registerDomainCommands },
  {
    names: ['migration'],
    load: async () => (await import('./commands/migration.ts')).registerMigrationCommands,
  },
  // The router cut-over's commands (`migration front|shift|back|…`) join the migration group.
  { names: ['migration'], load: async () => (await import('./commands/cutover.ts')).registerCutoverCommands },
  { names: ['finance'], load: async () => (await import('./commands/finance.ts')).registerFinanceCommands },
];

/** The program's own options that take a value. */
const VALUE_OPTIONS = new Set(['--url', '--token']);
/** Its own option that takes none; any other option before the command (--help, --version) loads every group. */
const FLAG_OPTIONS = new Set(['--json']);

/**
 * The groups a command line needs: those adding its command (the first word after the program's
 * own options), or every group when there is no such word, or when anything before it is not one
 * of the program's options.
 */
export function groupsFor(args: string[]): CommandGroup[] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (FLAG_OPTIONS.has(arg) || [...VALUE_OPTIONS].some((o) => arg.startsWith(`${o}=`))) continue;
    if (arg.startsWith('-')) break;
    const named = COMMAND_GROUPS.filter((g) => g.names.includes(arg));
    return named.length > 0 ? named : COMMAND_GROUPS;
  }
  return COMMAND_GROUPS;
}
