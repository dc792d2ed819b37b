import type { ReactNode } from 'react';
import { ApiError } from './api.ts';
import type { Outcome } from './hooks.ts';
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
export function Table({
  caption,
  wide = false,
  children,
}: {
  caption: string;
  /** Many columns: keep them readable and scroll on a phone rather than squeeze them. */
  wide?: boolean;
  children: ReactNode;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1)
    <section className="table-wrap" tabIndex={0} aria-label={caption}>
      <table className={wide ? 'wide' : undefined}>
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

/** Announced to screen readers when it changes; red when something was refused. */
export function Message({ msg }: { msg: Outcome | null }) {
  return (
    <p role="status" className={msg && !msg.ok ? 'error' : undefined}>
      {msg?.text ?? ''}
    </p>
  );
}

/** The props a form control takes: its name, and where its refusal is described. */
export interface ControlProps {
  id: string;
  name: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

/**
 * A labelled form control with the API's message for it underneath, tied to the control by
 * aria-describedby so that a screen reader reads the refusal with the field.
 */
export function Field({
  label,
  name,
  error,
  idPrefix = 'f',
  children,
}: {
  label: string;
  name: string;
  error?: string | undefined;
  idPrefix?: string;
  children(props: ControlProps): ReactNode;
}) {
  const id = `${idPrefix}-${name}`;
  const errorId = `${id}-error`;
  const props: ControlProps = error
    ? { id, name, 'aria-invalid': true, 'aria-describedby': errorId }
    : { id, name };
  // The message sits outside the label so that it describes the control without renaming it.
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(props)}
      {error && (
        <span id={errorId} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

/** Memory given in MiB, in the larger unit when it reads better. */
export const memMb = (n: number) =>
  n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} TB`
    : n >= 1024
      ? `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} GB`
      : `${Math.round(n)} MB`;

/** A fraction as a percentage. */
export const pct = (f: number | null) => (f === null ? '—' : `${(f * 100).toFixed(f < 0.1 ? 1 : 0)} %`);

/** A figure with at most `digits` decimals. */
export const num = (n: number, digits = 1) => String(Number(n.toFixed(digits)));

/**
 * Used against a limit, as words and a bar. The bar is SVG (attributes, not inline styles, which
 * the console's Content-Security-Policy forbids) and hidden from screen readers, who get the words.
 */
export function Bar({
  label,
  value,
  max,
  format = (n) => String(n),
}: {
  label: string;
  value: number;
  max: number;
  format?: (n: number) => string;
}) {
  const { t } = useI18n();
  const share = max > 0 ? value / max : value > 0 ? 1 : 0;
  const tone = share > 1 ? 'bad' : share >= 0.8 ? 'warn' : 'ok';
  return (
    <div className="bar" data-bar={label}>
      <div className="bar-text">
        <span className="bar-label">{label}</span>{' '}
        <span>
          {t('ofLimit', { used: format(value), limit: format(max) })} ({pct(share)})
        </span>
      </div>
      <svg viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
        <rect x="0" y="0" width="100" height="8" className="bar-track" />
        <rect x="0" y="0" width={Math.min(100, share * 100)} height="8" className={`bar-fill bar-${tone}`} />
      </svg>
    </div>
  );
}

/** A duration in the largest unit that keeps it readable. */
export function useDuration() {
  const { t } = useI18n();
  return (ms: number | null) => {
    if (ms === null) return '—';
    if (ms < 1000) return t('dur_ms', { n: Math.round(ms) });
    const s = ms / 1000;
    if (s < 120) return t('dur_s', { n: num(s) });
    if (s < 7200) return t('dur_min', { n: Math.round(s / 60) });
    if (s < 172800) return t('dur_h', { n: num(s / 3600) });
    return t('dur_d', { n: num(s / 86400) });
  };
}
