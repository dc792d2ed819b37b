import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { cardPage } from './card-page.ts';
import { SandboxState } from './sandbox.state.ts';
import { settlementReport } from './settlement-report.ts';

/** The most a request body may be: the contract's bodies are a few hundred bytes. */
const BODY_LIMIT = 16 * 1024;

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const isCents = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isText = (v: unknown, max = 2000): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * The sandbox provider (docs/payments.md, "provider contract"): the same small HTTP contract a
 * real acquirer's adapter speaks. Platform side, JSON: `POST /v1/payments` (open, by payment id),
 * `GET /v1/payments/:ref` (outcome), `POST /v1/payments/:ref/cancel` (an expired payment),
 * `POST /v1/refunds` (by refund id). Citizen side, HTML: the
 * card page `GET /pay/:ref`, whose form answers with a 303 to the payment's return URL.
 */
export function sandboxServer(opts: { journal: string | null; lateMs: number }): Server {
  const state = new SandboxState(opts.journal, opts.lateMs);
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    const base = `http://${req.headers.host ?? 'localhost'}`;
    try {
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      if (path.startsWith('/v1/')) {
        if (req.method === 'POST' && path === '/v1/payments') {
          const b = JSON.parse((await readBody(req)) ?? 'null');
          if (
            !b ||
            !isText(b.paymentId, 100) ||
            !isCents(b.amount) ||
            !isText(b.description) ||
            !isText(b.returnUrl)
          )
            return json(res, 400, {
              error: 'paymentId, amount (cents), description and returnUrl are required',
            });
          const p = state.start({
            paymentId: b.paymentId,
            amount: b.amount,
            description: b.description,
            language: b.language === 'zh-Hant' ? 'zh-Hant' : 'en',
            returnUrl: b.returnUrl,
          });
          return json(res, 201, { providerRef: p.ref, redirectUrl: `${base}/pay/${p.ref}` });
        }
        const m = /^\/v1\/payments\/([\w-]+)$/.exec(path);
        if (req.method === 'GET' && m) {
          const p = state.get(m[1] as string);
          return p
            ? json(res, 200, { outcome: state.outcome(p) })
            : json(res, 404, { error: 'no such payment' });
        }
        const cancel = /^\/v1\/payments\/([\w-]+)\/cancel$/.exec(path);
        if (req.method === 'POST' && cancel) {
          const outcome = state.cancel(cancel[1] as string);
          return outcome ? json(res, 200, { outcome }) : json(res, 404, { error: 'no such payment' });
        }
        const day = /^\/v1\/settlements\/(\d{4}-\d{2}-\d{2})$/.exec(path);
        if (req.method === 'GET' && day) return json(res, 200, settlementReport(state, day[1] as string));
        if (req.method === 'POST' && path === '/v1/refunds') {
          const b = JSON.parse((await readBody(req)) ?? 'null');
          if (!b || !isText(b.providerRef, 100) || !isText(b.refundId, 100) || !isCents(b.amount))
            return json(res, 400, { error: 'providerRef, refundId and amount (cents) are required' });
          const r = state.refund(b.providerRef, b.refundId, b.amount);
          return json(res, r === 'success' ? 200 : 409, { outcome: r === 'success' ? 'success' : 'error' });
        }
        return json(res, 404, { error: 'no such operation' });
      }
      const page = /^\/pay\/([\w-]+)$/.exec(path);
      const p = page ? state.get(page[1] as string) : undefined;
      if (!page || !p) return res.writeHead(404, { 'content-type': 'text/plain' }).end('no such payment\n');
      if (req.method === 'GET')
        return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(cardPage(p));
      if (req.method === 'POST') {
        const form = new URLSearchParams((await readBody(req)) ?? '');
        state.submit(p.ref, form.get('action') === 'cancel' ? null : (form.get('card') ?? ''));
        return res.writeHead(303, { location: p.returnUrl }).end();
      }
      return res.writeHead(405, { allow: 'GET, POST' }).end();
    } catch (err) {
      if (err instanceof SyntaxError) return json(res, 400, { error: 'the body is not JSON' });
      return json(res, 500, { error: 'the sandbox failed' });
    }
  });
}
