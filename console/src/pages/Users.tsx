import { type FormEvent, useState } from 'react';
import { type ApiToken, get, type Me, type Page, send, type User } from '../api.ts';
import { errorText, useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Status, Table } from '../ui.tsx';

const PLATFORM_ROLES = ['platform-admin', 'operator', 'finance'];
const DEPT_ROLES = ['dept-admin', 'dept-developer', 'dept-viewer'];
/** Who has the users page (see App); others reach only their own tokens. */
const ADMIN_VIEW = new Set(['platform-admin', 'operator', 'dept-admin']);

/** The users the caller may see (the API narrows a department admin to its department). */
export function UsersPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const users = useLoad(() => get<Page<User>>('/users?limit=500'), 'users');
  const canWrite = me.role === 'platform-admin' || me.role === 'dept-admin';
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  const disable = async (u: User, disabled: boolean) => {
    setMsg(null);
    try {
      await send('PATCH', `/users/${encodeURIComponent(u.username)}`, { disabled });
      setMsg({ ok: true, text: t(disabled ? 'userDisabled' : 'userEnabled', { user: u.username }) });
      users.reload();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };

  return (
    <>
      <h1>{t('users')}</h1>
      <Status loading={users.loading} error={users.data ? null : users.error} />
      {users.data && (
        <Table caption={t('users')}>
          <thead>
            <tr>
              <th scope="col">{t('username')}</th>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('role')}</th>
              <th scope="col">{t('department')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users.data.items.map((u) => (
              <tr key={u.username} data-user={u.username}>
                <td>
                  <Link href={`/users/${encodeURIComponent(u.username)}`}>{u.username}</Link>
                </td>
                <td>{u.displayName}</td>
                <td>{u.role}</td>
                <td>{u.department ?? '—'}</td>
                <td>
                  {u.disabled ? (
                    <Badge tone="bad">{t('disabled')}</Badge>
                  ) : (
                    <Badge tone="ok">{t('active')}</Badge>
                  )}
                </td>
                <td>
                  {canWrite && u.username !== me.username && (
                    <button type="button" onClick={() => disable(u, !u.disabled)}>
                      {t(u.disabled ? 'enable' : 'disable')}{' '}
                      <span className="visually-hidden">{u.username}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <p role="status" className={msg && !msg.ok ? 'error' : undefined}>
        {msg?.text ?? ''}
      </p>
      {canWrite && <NewUserForm me={me} onDone={users.reload} />}
    </>
  );
}

function NewUserForm({ me, onDone }: { me: Me; onDone(): void }) {
  const { t } = useI18n();
  const platform = me.role === 'platform-admin';
  const roles = platform ? [...DEPT_ROLES, ...PLATFORM_ROLES] : DEPT_ROLES;
  const [f, setF] = useState({
    username: '',
    displayName: '',
    role: roles[0] as string,
    department: me.department ?? '',
    password: '',
  });
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const deptRole = f.role.startsWith('dept-');
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setMsg(null);
    try {
      const body: Record<string, string> = { username: f.username, displayName: f.displayName, role: f.role };
      if (deptRole && f.department) body.department = f.department.toUpperCase();
      if (f.password) body.password = f.password;
      await send('POST', '/users', body);
      setMsg({ ok: true, text: t('userCreated', { user: f.username }) });
      setF({ ...f, username: '', displayName: '', password: '' });
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={submit} aria-labelledby="h-new-user">
      <h2 id="h-new-user">{t('newUser')}</h2>
      <label>
        {t('username')}
        <input
          name="username"
          required
          pattern="[a-z][a-z0-9._\-]{1,63}"
          value={f.username}
          onChange={set('username')}
        />
      </label>
      <label>
        {t('displayName')}
        <input name="displayName" required value={f.displayName} onChange={set('displayName')} />
      </label>
      <label>
        {t('role')}
        <select name="role" value={f.role} onChange={set('role')}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      {deptRole && (
        <label>
          {t('department')}
          <input
            name="department"
            required
            readOnly={!platform}
            value={f.department}
            onChange={set('department')}
          />
        </label>
      )}
      <label>
        {t('passwordOptional')}
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={12}
          value={f.password}
          onChange={set('password')}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {t('createUser')}
      </button>
      <p role="status" className={msg && !msg.ok ? 'error' : undefined}>
        {msg?.text ?? ''}
      </p>
    </form>
  );
}

/** One user's API and session tokens; a new token's secret is shown once, right after creation. */
export function UserTokensPage({ me, username }: { me: Me; username: string }) {
  const { t, time } = useI18n();
  const self = username === me.username;
  const path = self ? '/tokens' : `/tokens?user=${encodeURIComponent(username)}`;
  const tokens = useLoad(() => get<{ items: ApiToken[] }>(path), path);
  const canManage = self || me.role === 'platform-admin' || me.role === 'dept-admin';
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'read' | 'write'>('read');
  const [days, setDays] = useState('90');

  const revoke = async (tok: ApiToken) => {
    setMsg(null);
    try {
      await send('DELETE', `/tokens/${tok.id}`);
      setMsg({ ok: true, text: t('tokenRevoked', { name: tok.name }) });
      tokens.reload();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setMsg(null);
    setSecret(null);
    try {
      const body = { name, scope, expiresInDays: Number(days), ...(self ? {} : { user: username }) };
      const res = await send<{ secret: string }>('POST', '/tokens', body);
      setSecret(res.secret);
      setName('');
      tokens.reload();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };

  return (
    <>
      {ADMIN_VIEW.has(me.role) && (
        <p>
          <Link href="/users">{t('backToUsers')}</Link>
        </p>
      )}
      <h1>{t('tokensOf', { user: username })}</h1>
      <Status loading={tokens.loading} error={tokens.data ? null : tokens.error} />
      {tokens.data && tokens.data.items.length === 0 && <p>{t('noTokens')}</p>}
      {tokens.data && tokens.data.items.length > 0 && (
        <Table caption={t('tokens')}>
          <thead>
            <tr>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('kind')}</th>
              <th scope="col">{t('scope')}</th>
              <th scope="col">{t('prefix')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('expires')}</th>
              <th scope="col">{t('lastUsed')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.items.map((tok) => (
              <tr key={tok.id} data-token={tok.name} data-token-state={tok.state}>
                <td>{tok.name}</td>
                <td>{tok.kind}</td>
                <td>{tok.scope}</td>
                <td>
                  <code>{tok.prefix}…</code>
                </td>
                <td>
                  <Badge tone={tok.state === 'active' ? 'ok' : 'neutral'}>{t(`token_${tok.state}`)}</Badge>
                </td>
                <td>{time(tok.expiresAt)}</td>
                <td>{time(tok.lastUsedAt)}</td>
                <td>
                  {canManage && tok.state === 'active' && (
                    <button type="button" onClick={() => revoke(tok)}>
                      {t('revoke')} <span className="visually-hidden">{tok.name}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <p role="status" className={msg && !msg.ok ? 'error' : undefined}>
        {msg?.text ?? ''}
      </p>
      {canManage && (
        <form className="card form" onSubmit={create} aria-labelledby="h-new-token">
          <h2 id="h-new-token">{t('newToken')}</h2>
          <label>
            {t('tokenName')}
            <input
              name="tokenName"
              required
              maxLength={200}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <label>
            {t('scope')}
            <select name="scope" value={scope} onChange={(e) => setScope(e.target.value as 'read' | 'write')}>
              <option value="read">read</option>
              <option value="write">write</option>
            </select>
          </label>
          <label>
            {t('expiresInDays')}
            <input
              name="expiresInDays"
              type="number"
              min={1}
              max={365}
              required
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
          </label>
          <button type="submit" className="primary">
            {t('createToken')}
          </button>
          {secret && (
            <div role="status" data-testid="token-secret">
              <p>{t('secretOnce')}</p>
              <code className="secret">{secret}</code>
            </div>
          )}
        </form>
      )}
    </>
  );
}
