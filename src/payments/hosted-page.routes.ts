import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteDeps } from '../platform/route-deps.ts';
import {
  backFromProvider,
  continueToProvider,
  pagePayment,
  pageRow,
  spendReturnLink,
} from './hosted.logic.ts';
import { finishedPage, hostedPageCsp, messagePage, paymentPage } from './hosted-page.ts';
import { cameOverHttps, paymentProviders, providerFor, type RouterTrust } from './live-mode.ts';
import { payHostname, requestHostname } from './pay-host.ts';
import type { KeyMode } from './payments.tables.ts';
import { ProviderUnavailable } from './provider.ts';
import { isFinal } from './states.ts';

const config = { public: true };
/**
 * What the payment host answers: the page's own paths exactly (anything else under `/pay/` would
 * fall through to the console's catch-all) and the payments API, with no dot or escape in a path.
 */
const PAY_HOST_PATHS =
  /^(?:\/pay\/(?:return\/[\w-]+|[\w-]+(?:\/continue|\/back)?)|\/api\/v1\/payments(?:\/[\w/-]*)?)(?:\?[^#]*)?$/;
const schema = { hide: true };
/**
 * A Host header that is a name and perhaps a port, nothing else. The page builds the provider's
 * way back from it, and the router passes on whatever follows the name (`pay.localhost:8080@evil`
 * would have sent the citizen elsewhere after paying).
 */
const PLAIN_HOST = /^[a-z0-9.-]+(?::\d{1,5})?$/i;

/**
 * The payment host `pay.<domain>` (decision 043), which the router sends to this server: the
 * hosted payment page under `/pay/` and the payments API for hosted services, and nothing else of
 * the platform (a 404 for the staff API, the console and the rest), so the page's origin holds no
 * staff session and no other page.
 */
export async function registerPayHost(
  app: FastifyInstance,
  deps: RouteDeps & { routerTrust?: () => RouterTrust | null },
): Promise<void> {
  const host = payHostname(deps.config.domain);
  const onPayHost = (req: FastifyRequest) => requestHostname(req.headers.host) === host;
  const sandbox = deps.config.paymentsSandboxUrl;
  const providers = paymentProviders(deps.config);
  /**
   * The provider of a payment's mode, or null when the citizen may not go on from here: a live
   * payment only over HTTPS through the router (decision 049).
   */
  const providerOf = (req: FastifyRequest, mode: KeyMode) =>
    mode === 'live' && !cameOverHttps(req.headers, deps.routerTrust?.() ?? null)
      ? null
      : providerFor(providers, mode);
  const live = deps.config.paymentsLiveProviderUrl;
  const liveOrigin = live && live !== 'sandbox' ? new URL(live).origin : null;
  const csp = hostedPageCsp(sandbox ? new URL(sandbox).origin : null, liveOrigin);
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply
      .status(status)
      .headers({
        'content-security-policy': csp,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      })
      .type('text/html; charset=utf-8')
      .send(body);

  app.addHook('onRequest', async (req, reply) => {
    // The payments API is served here too: a hosted service reaches it through the router, the
    // only platform port its instances may open (its routes take payment keys, never staff tokens).
    if (!onPayHost(req)) return;
    if (PAY_HOST_PATHS.test(req.url) && PLAIN_HOST.test(req.headers.host ?? '')) return;
    return html(reply, 404, messagePage(null, 'notFound'));
  });

  await app.register(
    async (pay) => {
      // The page's forms post nothing the platform reads (the payment is in the path), but a
      // browser sends them as a form: taken and dropped, never parsed.
      pay.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: 1024 },
        (_req, _body, done) => done(null, {}),
      );
      // Only on the payment host: the API's host serves none of these pages.
      pay.addHook('onRequest', async (req, reply) => {
        if (!onPayHost(req)) return reply.callNotFound();
      });

      pay.get<{ Params: { token: string } }>('/return/:token', { config, schema }, async (req, reply) => {
        const url = await spendReturnLink(deps.db, req.params.token);
        return url ? reply.redirect(url, 303) : html(reply, 410, messagePage(null, 'linkUsed'));
      });

      pay.get<{ Params: { id: string } }>('/:id', { config, schema }, async (req, reply) => {
        const p = await pagePayment(deps.db, deps.config.domain, req.params.id);
        if (!p) return html(reply, 404, messagePage(null, 'notFound'));
        return html(reply, 200, isFinal(p.state) ? finishedPage(p) : paymentPage(p));
      });

      pay.post<{ Params: { id: string } }>('/:id/continue', { config, schema }, async (req, reply) => {
        // The row, not the page's view of it: this step shows no service name, so reads none.
        const p = await pageRow(deps.db, req.params.id);
        if (!p) return html(reply, 404, messagePage(null, 'notFound'));
        if (p.state !== 'created' && p.state !== 'started') return reply.redirect(`/pay/${p.id}`, 303);
        // Test payments go to the sandbox, live ones to the live provider, over HTTPS only.
        const provider = providerOf(req, p.mode);
        if (!provider) return html(reply, 503, messagePage(p.language, 'unavailable'));
        try {
          // Back to the host and port the citizen came by (the onRequest hook checked the name;
          // a router on a port of its own choosing is then still right).
          const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
          const back = `${proto}://${req.headers.host}/pay/${p.id}/back`;
          const r = await continueToProvider(deps.db, provider, p, deps.config.paymentsExpiryMinutes, back);
          return reply.redirect('redirectUrl' in r ? r.redirectUrl : `/pay/${p.id}`, 303);
        } catch (err) {
          if (isUnavailable(err)) return html(reply, 503, messagePage(p.language, 'unavailable'));
          throw err;
        }
      });

      pay.get<{ Params: { id: string } }>('/:id/back', { config, schema }, async (req, reply) => {
        const p = await pageRow(deps.db, req.params.id);
        if (!p) return html(reply, 404, messagePage(null, 'notFound'));
        const provider = providerOf(req, p.mode);
        if (!provider) return html(reply, 503, messagePage(p.language, 'unavailable'));
        try {
          const r = await backFromProvider(deps.db, provider, p);
          if (r === 'pay') return reply.redirect(`/pay/${p.id}`, 303);
          if (r === 'used') return html(reply, 410, messagePage(p.language, 'linkUsed'));
          return reply.redirect(`/pay/return/${r.token}`, 303);
        } catch (err) {
          if (isUnavailable(err)) return html(reply, 503, messagePage(p.language, 'unavailable'));
          throw err;
        }
      });
    },
    { prefix: '/pay' },
  );
}

const isUnavailable = (err: unknown) =>
  err instanceof ProviderUnavailable ||
  (err instanceof Error && 'code' in err && err.code === 'GOVHOST_PAYMENT_PROVIDER_UNAVAILABLE');
