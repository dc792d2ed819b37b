/**
 * The hosted payment page's HTML (decision 043): the citizen's language (the payment's), no
 * script, no third-party asset, one stylesheet allowed by its hash, readable on a phone.
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from '../monitoring/status.page.ts';
import type { Language } from './payments.tables.ts';
import type { PaymentState } from './states.ts';

const CSS = `body{font:1.0625rem/1.5 system-ui,sans-serif;color:#0b0c0c;margin:0;overflow-wrap:anywhere}
header{background:#0b0c0c;color:#fff;padding:.75rem 1rem}header p{margin:0;font-weight:700}
main{max-width:36rem;margin:0 auto;padding:1rem}h1{font-size:1.6rem;line-height:1.25}
dl{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,2fr);gap:.5rem 1rem;margin:1.5rem 0}
dt{font-weight:700}dd{margin:0}.amount{font-size:1.5rem;font-weight:700}
button{font:inherit;font-weight:700;color:#fff;background:#00703c;border:0;border-bottom:2px solid #002d18;
padding:.6rem 1.2rem;cursor:pointer;max-width:100%}button:focus{outline:3px solid #fd0;outline-offset:0}
.note{border-left:5px solid #505a5f;padding-left:1rem;color:#0b0c0c}.test{background:#fff3cd;padding:.5rem 1rem}`;

const CSS_HASH = createHash('sha256').update(CSS).digest('base64');

/** No script at all; the one stylesheet by hash; forms post here, and the continue goes on to the provider. */
export const hostedPageCsp = (...providerOrigins: (string | null)[]) =>
  [
    "default-src 'none'",
    `style-src 'sha256-${CSS_HASH}'`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    ['form-action', "'self'", ...providerOrigins.filter((o) => o !== null)].join(' '),
  ].join('; ');

export const TEXT = {
  en: {
    platform: 'GovHost payments',
    title: (service: string) => `Pay for ${service}`,
    description: 'What you are paying for',
    reference: 'Reference',
    amount: 'Amount',
    continue: 'Continue to payment',
    note: "You will type your card details on the payment provider's page. GovHost never sees your card number.",
    test: 'Test payment: no real money is taken.',
    finished: 'This payment is finished',
    states: {
      success: 'Your payment was received.',
      failed: 'The payment did not go through.',
      cancelled: 'The payment was cancelled.',
      error: 'Something went wrong with the payment. No money was taken.',
    },
    notFound: 'No such payment',
    notFoundText: 'Check the link the service gave you, or start again from the service.',
    linkUsed: 'This link has already been used',
    linkUsedText:
      'A link back to the service works once. Go back to the service and look up your payment there.',
    unavailable: 'Payments are not available right now',
    unavailableText: 'Please try again in a few minutes.',
  },
  'zh-Hant': {
    platform: 'GovHost 付款服務',
    title: (service: string) => `繳付${service}費用`,
    description: '付款項目',
    reference: '參考編號',
    amount: '金額',
    continue: '繼續付款',
    note: '您將在付款服務提供者的網頁輸入信用卡資料。GovHost 不會看到您的卡號。',
    test: '測試付款：不會收取真實款項。',
    finished: '此付款已完成處理',
    states: {
      success: '我們已收到您的付款。',
      failed: '付款未能完成。',
      cancelled: '付款已取消。',
      error: '付款出現問題，並無扣款。',
    },
    notFound: '找不到此付款',
    notFoundText: '請檢查服務提供的連結，或從服務重新開始。',
    linkUsed: '此連結已使用',
    linkUsedText: '返回服務的連結只可使用一次。請返回服務查閱您的付款。',
    unavailable: '付款服務暫時未能使用',
    unavailableText: '請於數分鐘後再試。',
  },
} as const;

/** HK$ with two decimals and thousands separators, from cents (integers only, no float sums). */
export function hkd(cents: number): string {
  const whole = Math.floor(cents / 100).toLocaleString('en-HK');
  return `HK$${whole}.${String(cents % 100).padStart(2, '0')}`;
}

function page(lang: Language, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – ${TEXT[lang].platform}</title>
<style>${CSS}</style></head>
<body><header><p>${TEXT[lang].platform}</p></header>
<main>
${body}
</main></body></html>`;
}

export interface PageOfPayment {
  id: string;
  language: Language;
  mode: 'test' | 'live';
  state: PaymentState;
  serviceName: string;
  description: string;
  reference: string;
  amount: number;
  createdAt: Date;
}

/** What the citizen is asked to pay, with the one button that goes on to the provider. */
export function paymentPage(p: PageOfPayment): string {
  const t = TEXT[p.language];
  const title = t.title(p.serviceName);
  return page(
    p.language,
    title,
    `<h1>${escapeHtml(title)}</h1>
${p.mode === 'test' ? `<p class="test">${t.test}</p>` : ''}
<dl>
<dt>${t.description}</dt><dd>${escapeHtml(p.description)}</dd>
<dt>${t.reference}</dt><dd>${escapeHtml(p.reference)}</dd>
<dt>${t.amount}</dt><dd class="amount">${hkd(p.amount)}</dd>
</dl>
<form method="post" action="/pay/${p.id}/continue"><button type="submit">${t.continue}</button></form>
<p class="note">${t.note}</p>`,
  );
}

/** A payment that can no longer be paid: what became of it. */
export function finishedPage(p: PageOfPayment): string {
  const t = TEXT[p.language];
  const said = (t.states as Record<string, string>)[p.state] ?? t.states.error;
  return page(
    p.language,
    t.finished,
    `<h1>${t.finished}</h1>
<p>${escapeHtml(p.serviceName)}: ${escapeHtml(p.description)} (${hkd(p.amount)})</p>
<p>${said}</p>`,
  );
}

/** A page with a heading and a sentence (not found, link used, provider away), in both languages when unknown. */
export function messagePage(lang: Language | null, which: 'notFound' | 'linkUsed' | 'unavailable'): string {
  const langs: Language[] = lang ? [lang] : ['en', 'zh-Hant'];
  const parts = langs.map((l) => {
    const t = TEXT[l];
    const text = t[`${which}Text` as const];
    return `<section lang="${l}"><h1>${t[which]}</h1><p>${text}</p></section>`;
  });
  return page(langs[0] as Language, TEXT[langs[0] as Language][which], parts.join('\n'));
}
