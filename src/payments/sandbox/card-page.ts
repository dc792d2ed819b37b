import { escapeHtml } from '../../monitoring/status.page.ts';
import type { SandboxPayment } from './sandbox.state.ts';

const TEXT = {
  en: {
    title: 'Sandbox card payment',
    notice: 'Test payments only: use a test card number (docs/payments.md). No real card is charged.',
    amount: 'Amount',
    card: 'Card number',
    pay: 'Pay',
    cancel: 'Cancel payment',
  },
  'zh-Hant': {
    title: '沙盒信用卡付款',
    notice: '只供測試付款：請使用測試卡號（docs/payments.md），不會向真實信用卡收費。',
    amount: '金額',
    card: '卡號',
    pay: '付款',
    cancel: '取消付款',
  },
} as const;

/** The sandbox's own card page: the platform never sees what is typed here. */
export function cardPage(p: SandboxPayment): string {
  const t = TEXT[p.language];
  const amount = `HK$${(p.amount / 100).toFixed(2)}`;
  return `<!doctype html>
<html lang="${p.language}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title}</title>
<style>body{font:1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:1rem auto;padding:0 1rem}
label,input,button{display:block;font-size:1rem;margin:.5rem 0}input{width:100%;padding:.5rem}
button{padding:.6rem 1rem}.notice{border-left:4px solid #b35900;padding-left:.75rem}</style></head>
<body><main>
<h1>${t.title}</h1>
<p class="notice">${t.notice}</p>
<p>${escapeHtml(p.description)}</p>
<p>${t.amount}: <strong>${amount}</strong></p>
<form method="post" action="/pay/${p.ref}">
<label for="card">${t.card}</label>
<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" required pattern="[0-9 -]{12,23}">
<button type="submit" name="action" value="pay">${t.pay} ${amount}</button>
</form>
<form method="post" action="/pay/${p.ref}"><button type="submit" name="action" value="cancel">${t.cancel}</button></form>
</main></body></html>`;
}
