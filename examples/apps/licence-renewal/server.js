// A licence renewal form that takes a fee through GovHost's payment service (docs/payments.md):
// it creates a payment with its payment key, sends the citizen to the hosted payment page, and on
// return reads the payment to show the outcome. The platform also tells it of every change of its
// payments by a signed webhook (POST /webhooks/payments): the renewal is recorded as paid from
// the webhook, whether or not the citizen comes back. Node's standard library only.
//
// Environment (set with `govhost env set`):
//   PAYMENTS_KEY             the service's payment key (ghp_test_…), set as a secret
//   PAYMENTS_API             where the router listens, e.g. http://127.0.0.1:8080: the app reaches
//                            the payments API through the router, at the payment host
//   PAYMENTS_HOST            the payment host, e.g. pay.localhost
//   PAYMENTS_WEBHOOK_SECRET  the webhook's signing secret (whsec_…, from `govhost payments
//                            webhook-set`), set as a secret; without it every webhook gets 401
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, request } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const {
  PAYMENTS_KEY = '',
  PAYMENTS_API = 'http://127.0.0.1:8080',
  PAYMENTS_HOST = 'pay.localhost',
  PAYMENTS_WEBHOOK_SECRET = '',
} = process.env;
/** A webhook signed longer ago than this (or this far ahead) is refused as a replay. */
const TOLERANCE_SEC = 300;
/** Renewals paid, by payment reference, as the webhooks told them; and the events already handled. */
const paid = new Map();
const handled = new Set();

/**
 * GovHost's signature check (docs/payments.md): HMAC-SHA256 with the secret over
 * "<X-GovHost-Timestamp>.<raw body>", hex, prefixed "v1=", compared in constant time; and a
 * timestamp within the tolerance of this clock.
 */
function verified(headers, rawBody) {
  const timestamp = headers['x-govhost-timestamp'];
  const signature = headers['x-govhost-signature'];
  if (!PAYMENTS_WEBHOOK_SECRET || typeof timestamp !== 'string' || typeof signature !== 'string')
    return false;
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SEC) return false;
  const expected = Buffer.from(
    `v1=${createHmac('sha256', PAYMENTS_WEBHOOK_SECRET).update(`${timestamp}.${rawBody}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
const FEE = 45_000; // HK cents: HK$450.00
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One call to the payments API through the router, with the payment host as Host. */
function api(method, path, body, idempotencyKey) {
  const u = new URL(PAYMENTS_API);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path: `/api/v1${path}`,
        headers: {
          host: PAYMENTS_HOST,
          authorization: `Bearer ${PAYMENTS_KEY}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, json: text ? JSON.parse(text) : null }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('the payments API did not answer')));
    req.on('error', reject);
    req.end(payload);
  });
}

const page = (title, body) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`;

const form = page(
  'Renew your licence',
  `<p>The renewal fee is HK$${(FEE / 100).toFixed(2)}.</p>
<form method="post" action="/renew">
<p><label for="licence">Licence number</label><br><input id="licence" name="licence" required maxlength="20" pattern="[A-Za-z0-9-]+"></p>
<p><label for="language">Language of the payment page</label><br>
<select id="language" name="language"><option value="en">English</option><option value="zh-Hant">繁體中文</option></select></p>
<p><button type="submit">Renew and pay</button></p>
</form>`,
);

const OUTCOME = {
  success: 'Thank you: your payment was received and your licence is renewed.',
  failed: 'Your payment did not go through. You have not been charged.',
  cancelled: 'You cancelled the payment.',
  error: 'Something went wrong with the payment. You have not been charged.',
};

async function readBody(req, limit) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('request body too large');
  }
  return body;
}

const readForm = async (req) => new URLSearchParams(await readBody(req, 4096));

const send = (res, status, html) =>
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);

createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (url.pathname === '/healthz') return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (url.pathname === '/' && req.method === 'GET') return send(res, 200, form);
    if (url.pathname === '/webhooks/payments' && req.method === 'POST') {
      // The raw body as it came: the signature covers these bytes, not a re-serialised copy.
      const raw = await readBody(req, 65_536);
      if (!verified(req.headers, raw))
        return res.writeHead(401, { 'content-type': 'text/plain' }).end('bad signature\n');
      const event = JSON.parse(raw);
      // A retry after a lost answer carries the same event id: handled once.
      if (!handled.has(event.id)) {
        handled.add(event.id);
        if (event.type === 'payment.success') paid.set(event.payment.reference, event.id);
      }
      return res.writeHead(204).end();
    }
    if (url.pathname === '/renew' && req.method === 'POST') {
      const f = await readForm(req);
      const licence = f.get('licence') ?? '';
      if (!/^[A-Za-z0-9-]{1,20}$/.test(licence)) return send(res, 400, page('Check your licence number', ''));
      const reference = `REN-${licence}-${randomUUID().slice(0, 8)}`;
      // Back to this service's own host (the router passes the citizen's Host on): the payment
      // service accepts only the service's own host names as return URLs.
      const created = await api(
        'POST',
        '/payments',
        {
          amount: FEE,
          reference,
          description: `Renewal of licence ${licence}`,
          returnUrl: `http://${req.headers.host}/done?reference=${encodeURIComponent(reference)}`,
          language: f.get('language') === 'zh-Hant' ? 'zh-Hant' : 'en',
        },
        reference, // the idempotency key: a retried form post makes no second payment
      );
      if (created.status !== 201 && created.status !== 200)
        return send(
          res,
          502,
          page('Payments are not available', `<p>${escapeHtml(created.json?.detail ?? '')}</p>`),
        );
      return res.writeHead(303, { location: created.json.nextUrl }).end();
    }
    if (url.pathname === '/done' && req.method === 'GET') {
      const reference = url.searchParams.get('reference') ?? '';
      const found = await api('GET', `/payments?reference=${encodeURIComponent(reference)}`);
      const payment = found.json?.items?.[0];
      if (!payment) return send(res, 404, page('No such renewal', ''));
      const said = OUTCOME[payment.state] ?? 'Your payment is being processed.';
      return send(
        res,
        200,
        page(
          'Licence renewal',
          `<p>${escapeHtml(said)}</p>
<p>Reference: ${escapeHtml(payment.reference)}</p>
<p>Payment state: <strong id="state">${escapeHtml(payment.state)}</strong></p>
<p>Renewal: <strong id="renewal">${paid.has(payment.reference) ? 'paid (confirmed by the signed webhook)' : 'not paid yet'}</strong></p>
<p><a href="/">Renew another licence</a></p>`,
        ),
      );
    }
    send(res, 404, page('Not found', ''));
  } catch (err) {
    console.error(`licence-renewal: ${err.message}`);
    send(res, 502, page('Payments are not available', '<p>Please try again later.</p>'));
  }
}).listen(port, () => console.log(`licence-renewal listening on port ${port}`));
