import type { ReactNode } from 'react';
import { ApiError } from './api.ts';
import { type Lang, useI18n } from './i18n.tsx';

export function Status({ loading, error }: { loading: boolean; error: Error | null }) {
  const { t } = useI18n();
  if (error) {
    return (
      <p className="error" role="alert">
        {t('error')}: {error instanceof ApiError ? `${error.message} (${error.code})` : error.message}
      </p>
    );
  }
  if (loading) return <p aria-live="polite">{t('loading')}</p>;
  return null;
}

export function Badge({ tone, children }: { tone: 'ok' | 'bad' | 'warn' | 'neutral'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** A table that scrolls sideways on a phone instead of widening the page. */
export function Table({ caption, children }: { caption: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1)
    <section className="table-wrap" tabIndex={0} aria-label={caption}>
      <table>
        <caption className="visually-hidden">{caption}</caption>
        {children}
      </table>
    </section>
  );
}

export const mb = (bytes: number | null) => (bytes === null ? '—' : `${Math.round(bytes / 1048576)} MB`);

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang">
      <span>{t('language')}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="language">
        <option value="en" lang="en">
          English
        </option>
        <option value="zh-Hant" lang="zh-Hant">
          繁體中文
        </option>
      </select>
    </label>
  );
}
