import { type FormEvent, useState } from 'react';
import { ApiError, send } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import { LanguageSwitch } from '../ui.tsx';

export function SignIn({ onSignedIn }: { onSignedIn(): Promise<void> }) {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await send('POST', '/auth/session', { username, password });
      await onSignedIn();
    } catch (err) {
      const code = err instanceof ApiError ? err.code : null;
      setError(
        code === 'GOVHOST_SIGN_IN_THROTTLED'
          ? t('signInThrottled')
          : code === 'GOVHOST_SIGN_IN_LOCKED'
            ? t('signInLocked')
            : err instanceof ApiError && (err.status === 401 || err.status === 400)
              ? t('loginFailed')
              : String(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <div className="signin-lang">
        <LanguageSwitch />
      </div>
      <h1>{t('signInTitle')}</h1>
      <form onSubmit={submit} className="card form">
        <label>
          {t('username')}
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          {t('password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
    </main>
  );
}
