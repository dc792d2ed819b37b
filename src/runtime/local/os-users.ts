/**
 * Service users as real system users, known to the OS (`useradd`), so that `ps`, `ls -l` and
 * every other tool name them, and so that no one else (a person, a package, another GovHost
 * install on the same host) is ever given the same uid. Each has a group of the same name and id.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** An OS account: name and uid (its group has the same name and id). */
export interface OsUser {
  name: string;
  uid: number;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`) as Error & {
          exitCode?: number | string;
        };
        e.exitCode = (err as { code?: number | string }).code;
        reject(e);
      } else resolve(stdout);
    }),
  );
}

/** `name:x:id:gid:comment:...` lines of a passwd or group database, as `getent` (or the file) has them. */
async function database(db: 'passwd' | 'group'): Promise<{ name: string; id: number; comment: string }[]> {
  let text: string;
  try {
    // getent also sees users from LDAP, NIS or systemd's dynamic users, not only /etc/passwd.
    text = await run('getent', [db]);
  } catch {
    text = readFileSync(`/etc/${db}`, 'utf8');
  }
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2] ?? ''))
    .map((f) => ({ name: f[0] as string, id: Number(f[2]), comment: f[4] ?? '' }));
}

/** Every uid and gid the OS gives to anyone: none of them may become a service's. */
export async function takenIds(): Promise<Set<number>> {
  const [users, groups] = await Promise.all([database('passwd'), database('group')]);
  return new Set([...users.map((u) => u.id), ...groups.map((g) => g.id)]);
}

/**
 * The OS users made with this `owner` comment: proof that an install made them, before it
 * removes one it no longer knows (never a user of someone else, or of another install).
 */
export async function usersOwnedBy(owner: string): Promise<OsUser[]> {
  return (await database('passwd'))
    .filter((u) => u.comment === owner)
    .map((u) => ({ name: u.name, uid: u.id }));
}

/** The OS user with this uid, or null. */
export async function userById(uid: number): Promise<OsUser | null> {
  const found = (await database('passwd')).find((u) => u.id === uid);
  return found ? { name: found.name, uid: found.id } : null;
}

/**
 * Makes a system user and its group with this id: no home, no login shell. Fails (and leaves
 * nothing) when the name or id is taken meanwhile, e.g. by another install picking at once.
 */
export async function addSystemUser(name: string, id: number, owner: string): Promise<void> {
  await run('groupadd', ['--system', '--gid', String(id), name]);
  try {
    await run('useradd', [
      '--system',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      owner,
      '--uid',
      String(id),
      '--gid',
      String(id),
      name,
    ]);
  } catch (err) {
    await run('groupdel', [name]).catch(() => undefined);
    throw err;
  }
}

/** Removes a user and its group; nothing to do when they are gone already. */
export async function deleteSystemUser(name: string): Promise<void> {
  // userdel exits 6 when the user does not exist; groupdel likewise for a missing group.
  await run('userdel', [name]).catch((err: { exitCode?: number }) => {
    if (err.exitCode !== 6) throw err;
  });
  await run('groupdel', [name]).catch((err: { exitCode?: number }) => {
    if (err.exitCode !== 6) throw err;
  });
}
