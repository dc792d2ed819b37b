/** Options and collaborators of the local supervisor. */

/** The slice of a pino logger the supervisor uses; fastify's `app.log` fits. */
export interface SupervisorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: SupervisorLogger = { info() {}, warn() {}, error() {} };

export interface LocalSupervisorOptions {
  /** Folder of the instances' state records; one supervisor per folder (it is locked). */
  stateDir: string;
  /** Folder of the instances' log files. */
  logDir: string;
  /** Size past which a log is rotated to `.1`; default 1 MiB. */
  logMaxBytes?: number;
  /** Where the cgroup filesystem is mounted; default /sys/fs/cgroup. null turns limits off. */
  cgroupRoot?: string | null;
  logger?: SupervisorLogger;
  /**
   * Ports to give instances, inclusive; default 20000 up to below the kernel's ephemeral
   * range (see ports.ts).
   */
  portRange?: [number, number];
}
