/**
 * Keeps this install's nftables table (see nftables.ts) in step with the platform: installed at
 * start with the service users there are, told of each user made or removed, re-applied when the
 * router's port changes, removed at a clean stop. Where it cannot be installed, it says why, and
 * status output shows "network isolation: not enforced (<why>)".
 */
import {
  type AllowedPort,
  addServiceUid,
  applyRules,
  type IsolationReport,
  isolationUnavailable,
  removeRules,
  removeServiceUid,
} from './nftables.ts';

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class NetworkIsolation {
  private report: IsolationReport = { enforced: false, reason: 'not started' };
  private readonly uids = new Set<number>();
  private allowed: readonly AllowedPort[];

  constructor(private readonly opts: { table: string; allowed: readonly AllowedPort[]; log: Logger }) {
    this.allowed = opts.allowed;
  }

  /** Installs the table (replacing one a crash left) for these uids; never throws. */
  async start(uids: readonly number[]): Promise<IsolationReport> {
    for (const uid of uids) this.uids.add(uid);
    const why = isolationUnavailable();
    if (why) {
      this.report = { enforced: false, reason: why };
    } else {
      try {
        await this.apply();
        this.report = { enforced: true, reason: null };
      } catch (err) {
        const msg = (err as Error).message;
        this.report = {
          enforced: false,
          reason: msg === 'nft not found' ? 'nft not found (install nftables)' : `nft failed: ${msg}`,
        };
      }
    }
    if (this.report.enforced) {
      this.opts.log.info(
        { table: this.opts.table, allowed: this.allowed },
        'network isolation: enforced (nftables)',
      );
    } else {
      this.opts.log.warn(
        { reason: this.report.reason },
        `network isolation: not enforced (${this.report.reason})`,
      );
    }
    return this.report;
  }

  private apply(): Promise<void> {
    return applyRules({ table: this.opts.table, uids: [...this.uids], allowed: this.allowed });
  }

  status(): IsolationReport {
    return this.report;
  }

  /** New allowed ports (the router came back on another port): the table is replaced whole. */
  async setAllowed(allowed: readonly AllowedPort[]): Promise<void> {
    this.allowed = allowed;
    if (this.report.enforced) await this.apply();
  }

  /** A service user was made: it is limited before any process runs as it. */
  async added(uid: number): Promise<void> {
    this.uids.add(uid);
    if (this.report.enforced) await addServiceUid(this.opts.table, uid);
  }

  async removed(uid: number): Promise<void> {
    this.uids.delete(uid);
    if (this.report.enforced) await removeServiceUid(this.opts.table, uid);
  }

  /** Removes the table (a clean stop: no service user runs any more). */
  async stop(): Promise<void> {
    if (!this.report.enforced) return;
    await removeRules(this.opts.table);
    this.report = { enforced: false, reason: 'stopped' };
  }
}
