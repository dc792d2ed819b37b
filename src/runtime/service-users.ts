/**
 * Each service's processes run as an OS user of their own, made for it: a real system user (see
 * local/os-users.ts) named `<prefix><uid>`, its uid from the configured range, skipping every id the
 * OS already gives out, so that two installs on one host, or a person added later, never share one.
 * The store keeps which user a service has, so it survives restarts; the user goes with the service
 * (retired) and with the install (`govhost admin remove-service-users`).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import * as releases from '../catalog/release.repository.ts';
import type { Db } from '../platform/database.ts';
import {
  addSystemUser,
  deleteSystemUser,
  type OsUser,
  takenIds,
  userById,
  usersOwnedBy,
} from './local/os-users.ts';

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ServiceUserSettings {
  prefix: string;
  /** The users' comment (GECOS) field: which install made them, e.g. `GovHost 1a2b3c4d5e6f`. */
  owner: string;
  uidMin: number;
  uidMax: number;
}

/** Told when a user is made or removed (the network rules follow the set of uids). */
export interface ServiceUserListener {
  added(uid: number): Promise<void>;
  removed(uid: number): Promise<void>;
}

/** This install's default prefix, e.g. `gh1a2b3c-`, from its data folder. */
export function defaultUserPrefix(dataDir: string): string {
  return `gh${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 6)}-`;
}

/** The comment this install's users carry, from its data folder. */
export function installOwner(dataDir: string): string {
  return `GovHost ${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)}`;
}

/** The OS user name of a service user of this install. */
export const userName = (prefix: string, uid: number) => `${prefix}${uid}`;

/** Retired (or gone) services keep no user. */
const needsUser = (row: releases.RunUserRow) => row.lifecycle !== 'retired';

export class ServiceUsers {
  /** One change at a time: two services must not pick the same free uid. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly known = new Map<string, OsUser>();
  private listener: ServiceUserListener | null = null;

  constructor(
    private readonly deps: {
      db: Db;
      settings: ServiceUserSettings;
      log: Logger;
      /** Why services get no OS user here whatever the platform runs as (they run in pods). */
      off?: string;
    },
  ) {}

  /** False when the platform is not root (or users are off): services then run as the platform's own user. */
  get enabled(): boolean {
    return !this.deps.off && process.getuid?.() === 0;
  }

  /** Why services have no users of their own, or null when they have. */
  get reason(): string | null {
    if (this.deps.off) return this.deps.off;
    return this.enabled ? null : 'the platform is not running as root: services run as its own user';
  }

  listen(listener: ServiceUserListener): void {
    this.listener = listener;
  }

  /** The uids of this install's service users now. */
  uids(): number[] {
    return [...this.known.values()].map((u) => u.uid);
  }

  /** The user a service runs as, or null when it has none (not root). */
  user(serviceId: string): OsUser | null {
    return this.known.get(serviceId) ?? null;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * After a start: every service that has run or will run gets its user (made again if the OS lost
   * it); retired services' users and users of this install the store does not know (a crash
   * between useradd and the store) are removed. Returns what it changed.
   */
  reconcile(): Promise<{ made: number; removed: number }> {
    return this.serial(async () => {
      if (!this.enabled) return { made: 0, removed: 0 };
      const { db, settings } = this.deps;
      let made = 0;
      let removed = 0;
      const rows = await releases.runUsers(db);
      for (const row of rows) {
        if (row.run_uid === null || row.run_user === null) {
          if (needsUser(row) && row.current_release_id !== null) {
            await this.make(row.id);
            made++;
          }
          continue;
        }
        if (!needsUser(row)) {
          await this.drop(row.id, { uid: row.run_uid, name: row.run_user });
          removed++;
          continue;
        }
        const os = await userById(row.run_uid);
        if (os?.name === row.run_user) {
          this.known.set(row.id, os);
        } else if (os === null && !(await takenIds()).has(row.run_uid)) {
          // The OS forgot it (a new host, a restored store): the same uid again, so that the
          // working copies' owner still fits.
          await addSystemUser(row.run_user, row.run_uid, settings.owner);
          await this.listener?.added(row.run_uid);
          this.known.set(row.id, { name: row.run_user, uid: row.run_uid });
          made++;
        } else {
          // Someone else has that uid now: never share it; a new user, the copies follow.
          await this.make(row.id);
          made++;
        }
      }
      const mine = new Set(rows.map((r) => r.run_user).filter((n) => n !== null));
      for (const os of await usersOwnedBy(settings.owner)) {
        if (mine.has(os.name)) continue;
        await deleteSystemUser(os.name);
        removed++;
      }
      return { made, removed };
    });
  }

  /** The uid a service's processes run as, its user made first if need be; null when not root. */
  async uidFor(serviceId: string): Promise<number | null> {
    if (!this.enabled) return null;
    const have = this.known.get(serviceId);
    if (have) return have.uid;
    return this.serial(async () => this.known.get(serviceId)?.uid ?? (await this.make(serviceId)).uid);
  }

  /** Removes a service's user (its processes must have stopped and its files gone). */
  remove(serviceId: string): Promise<void> {
    return this.serial(async () => {
      const row = (await releases.runUsers(this.deps.db)).find((r) => r.id === serviceId);
      const user =
        row?.run_uid != null && row.run_user != null
          ? { uid: row.run_uid, name: row.run_user }
          : (this.known.get(serviceId) ?? null);
      if (user && this.enabled) await this.drop(serviceId, user);
    });
  }

  /** Removes every service user of this install (the install is being reset or removed). */
  removeAll(): Promise<number> {
    return this.serial(async () => {
      let n = 0;
      for (const row of await releases.runUsers(this.deps.db)) {
        if (row.run_uid === null || row.run_user === null) continue;
        await this.drop(row.id, { uid: row.run_uid, name: row.run_user });
        n++;
      }
      for (const os of await usersOwnedBy(this.deps.settings.owner)) {
        await deleteSystemUser(os.name);
        n++;
      }
      return n;
    });
  }

  private async drop(serviceId: string, user: OsUser): Promise<void> {
    await deleteSystemUser(user.name);
    await releases.setRunUser(this.deps.db, serviceId, null);
    this.known.delete(serviceId);
    await this.listener?.removed(user.uid);
    this.deps.log.info({ serviceId, user: user.name, uid: user.uid }, 'removed service user');
  }

  /** Picks the lowest uid of the range no one has (OS or store), and makes the user. */
  private async make(serviceId: string): Promise<OsUser> {
    const { db, settings, log } = this.deps;
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await takenIds();
      for (const r of await releases.runUsers(db)) if (r.run_uid !== null) taken.add(r.run_uid);
      let uid = settings.uidMin;
      while (uid <= settings.uidMax && taken.has(uid)) uid++;
      if (uid > settings.uidMax) {
        throw new Error(
          `no free uid left for a service user from ${settings.uidMin} to ${settings.uidMax}: widen GOVHOST_SERVICE_UID_MIN/MAX`,
        );
      }
      const user = { uid, name: userName(settings.prefix, uid) };
      try {
        await addSystemUser(user.name, user.uid, settings.owner);
      } catch (err) {
        // Taken meanwhile (another install picked the same id): look again.
        log.warn({ uid, err: (err as Error).message }, 'could not make a service user; trying another uid');
        continue;
      }
      try {
        // Into the network rules before anything runs as it: a user the rules miss is not used.
        await this.listener?.added(user.uid);
        await releases.setRunUser(db, serviceId, user);
      } catch (err) {
        await deleteSystemUser(user.name).catch(() => undefined);
        throw err;
      }
      this.known.set(serviceId, user);
      log.info({ serviceId, user: user.name, uid }, 'made service user');
      return user;
    }
    throw new Error('could not make a service user: every uid tried was taken meanwhile');
  }
}
