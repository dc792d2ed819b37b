import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadKey, SecretBox } from '../platform/secrets.ts';
import type { Log } from './log.ts';
import type { ResolvedOptions } from './options.ts';
import type { RouteTable } from './route-table.ts';
import { parseRouteTable } from './route-validate.ts';

/** The outcome of offering a table: applied, already held (same version, same content), or refused. */
export type UpdateResult = 'applied' | 'unchanged' | 'stale' | 'conflict';

const EMPTY: RouteTable = Object.freeze({ version: 0, routes: [] }) as RouteTable;

/**
 * Holds the current RouteTable and keeps a copy on disk, so a router that restarts (or is
 * killed) serves its last-known routes at once, before the control plane is back.
 */
export class RouteStore {
  #table: RouteTable = EMPTY;
  // Updates run one at a time: the version check and the file swap must not interleave.
  #queue: Promise<unknown> = Promise.resolve();
  readonly #listeners: ((t: RouteTable) => void)[] = [];

  private readonly box: StateBox | null;

  /** @param box seals certificate keys in the state file; by default `stateBox` without a key given. */
  constructor(
    private readonly statePath: string | null,
    private readonly log: Log,
    box: StateBox | null = null,
  ) {
    this.box = box ?? stateBox({ statePath, stateKey: null });
  }

  current(): RouteTable {
    return this.#table;
  }

  /** Calls `fn` with every table applied from now on. */
  onChange(fn: (t: RouteTable) => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Reads the state file if there is one. A file that cannot be parsed is moved aside and the
   * router starts empty: refusing to start would turn one bad file into an outage of every host.
   */
  async load(): Promise<RouteTable> {
    if (!this.statePath) return this.#table;
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.#table;
      throw new Error(`cannot read route state ${this.statePath}: ${(err as Error).message}`);
    }
    let parsed: ReturnType<typeof parseRouteTable>;
    try {
      parsed = parseRouteTable(unsealKeys(JSON.parse(text), this.box!));
    } catch (err) {
      parsed = { ok: false, errors: [(err as Error).message] };
    }
    if (!parsed.ok) {
      const aside = `${this.statePath}.invalid-${Date.now()}`;
      await rename(this.statePath, aside).catch(() => {});
      this.log.error(
        { statePath: this.statePath, movedTo: aside, errors: parsed.errors },
        'route state unreadable',
      );
      return this.#table;
    }
    this.#set(parsed.table);
    return this.#table;
  }

  /** Applies `table` if it is newer than the current one; persists it before it takes effect. */
  update(table: RouteTable): Promise<UpdateResult> {
    const run = this.#queue.then(() => this.#update(table));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #update(table: RouteTable): Promise<UpdateResult> {
    const cur = this.#table;
    if (table.version < cur.version) return 'stale';
    if (table.version === cur.version && cur !== EMPTY) {
      // The control plane may resend after its own restart; the same content is not a conflict.
      return isDeepStrictEqual(table, cur) ? 'unchanged' : 'conflict';
    }
    // Written first: if the disk refuses, the caller hears so and memory still matches the file.
    if (this.statePath)
      await writeAtomically(this.statePath, `${JSON.stringify(sealKeys(table, this.box!))}\n`);
    this.#set(table);
    return 'applied';
  }

  #set(table: RouteTable): void {
    this.#table = table;
    for (const fn of this.#listeners) fn(table);
  }
}

/** The state key's box, made on first use. */
export type StateBox = () => SecretBox;

/**
 * The key sealing the state file's certificate keys: GOVHOST_ROUTER_STATE_KEY, or `<statePath>.key`
 * (made once, mode 0600). The router's own, not the platform's: a router host never holds the key
 * that opens the platform's other secrets. Read or made on first use, so a router that never
 * holds a certificate writes no key file. Null without a state file.
 */
export function stateBox(o: Pick<ResolvedOptions, 'statePath' | 'stateKey'>): StateBox | null {
  const path = o.statePath;
  if (!path) return null;
  let box: SecretBox | null = null;
  return () => {
    box ??= new SecretBox(loadKey(`${path}.key`, o.stateKey, 'GOVHOST_ROUTER_STATE_KEY'));
    return box;
  };
}

/** The table as written to disk: each certificate key sealed (AES-256-GCM), the rest as it is. */
function sealKeys(table: RouteTable, box: StateBox): RouteTable {
  if (!table.certificates?.length) return table;
  const b = box();
  return { ...table, certificates: table.certificates.map((c) => ({ ...c, key: b.seal(c.key) })) };
}

/**
 * The state file's contents with certificate keys opened. A key that is not sealed, or does not
 * open with this key, throws: the file is then treated as unreadable (moved aside).
 */
function unsealKeys(raw: unknown, box: StateBox): unknown {
  const certs = (raw as { certificates?: unknown } | null)?.certificates;
  if (!Array.isArray(certs) || certs.length === 0) return raw;
  const b = box();
  return {
    ...(raw as object),
    certificates: certs.map((c: { key?: unknown }) => {
      if (typeof c?.key !== 'string' || !c.key.startsWith('v1:'))
        throw new Error('a certificate key in the state file is not sealed');
      try {
        return { ...c, key: b.open(c.key) };
      } catch {
        throw new Error('a certificate key in the state file does not open with the state key');
      }
    }),
  };
}

/**
 * temp file in the same folder → fsync → rename → fsync the folder: the file is old or new, never
 * torn. The temp file is created exclusively (`wx`), readable by the router's user only: a file or
 * symlink planted at its (predictable) name makes the write fail rather than be followed.
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  // The rename itself lives in the folder's entry list; without this a crash may forget it.
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
