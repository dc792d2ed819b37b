import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Certificate } from '../../edge/certificates.logic.ts';
import type { ServiceHttps } from '../../edge/service-https.logic.ts';
import { act } from '../context.ts';
import { usageError } from '../errors.ts';
import { record, table, when, yesNo } from '../output.ts';
import { resolveRef } from './services.ts';

/** `41 days`, or `expired 3 days ago`: what an operator needs to see at a glance. */
const daysLeft = (c: Certificate) =>
  c.daysLeft >= 0 ? `${c.daysLeft} day${c.daysLeft === 1 ? '' : 's'}` : `expired ${-c.daysLeft} days ago`;

const show = (c: Certificate) =>
  record([
    ['id', c.id],
    ['names', c.names.join(', ')],
    ['subject', c.subject],
    ['issuer', c.issuer],
    ['valid from', when(c.notBefore)],
    ['valid until', when(c.notAfter)],
    ['days left', daysLeft(c)],
    ['key', c.keyType],
    ['sha256', c.fingerprint],
    ['source', c.source],
    ['added by', c.createdBy],
    ['added', when(c.createdAt)],
  ]);

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(
      `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** `govhost certs ...`: the TLS certificates routers serve (platform operators). */
export function registerCertCommands(program: Command): void {
  const certs = program
    .command('certs')
    .description('TLS certificates the routers serve (platform operators)');

  certs
    .command('add')
    .description(
      'upload a certificate chain and its key; checked before it is stored, the key sealed at rest',
    )
    .requiredOption('--cert <file>', 'PEM chain: the certificate first, then each issuer')
    .requiredOption('--key <file>', 'PEM private key of the certificate (unencrypted)')
    .option('--host <name>', 'refuse unless the certificate covers this host name')
    .action(
      act<{ cert: string; key: string; host?: string }>(async (ctx, opts) => {
        const chain = await readPem(opts.cert, 'certificate chain');
        const key = await readPem(opts.key, 'key');
        const c = await ctx.api.post<Certificate>('/certificates', { chain, key, host: opts.host });
        ctx.print(c, () => show(c));
      }),
    );

  certs
    .command('list')
    .description('list certificates, soonest expiry first')
    .action(
      act(async (ctx) => {
        const res = await ctx.api.get<{ items: Certificate[] }>('/certificates');
        ctx.print(res, () =>
          res.items.length === 0
            ? 'no certificates'
            : table(res.items, [
                ['id', (c) => c.id],
                ['names', (c) => c.names.join(', ')],
                ['issuer', (c) => c.issuer],
                ['valid until', (c) => when(c.notAfter)],
                ['days left', daysLeft],
                ['source', (c) => c.source],
              ]),
        );
      }),
    );

  certs
    .command('show')
    .description('show a certificate (never its key)')
    .argument('<id>', 'certificate id, from govhost certs list')
    .action(
      act(async (ctx, _opts, id) => {
        const c = await ctx.api.get<Certificate>(`/certificates/${encodeURIComponent(id)}`);
        ctx.print(c, () => show(c));
      }),
    );

  certs
    .command('remove')
    .description('remove a certificate: routers stop serving it with the next route table')
    .argument('<id>', 'certificate id, from govhost certs list')
    .action(
      act(async (ctx, _opts, id) => {
        const c = await ctx.api.delete<Certificate>(`/certificates/${encodeURIComponent(id)}`);
        ctx.print(c, () => `Removed certificate ${c.id} (${c.names.join(', ')}).`);
      }),
    );
}

/** `govhost services https S [--no-redirect] [--no-hsts]`: a service's HTTPS settings. */
export function registerServiceHttpsCommand(services: Command): void {
  services
    .command('https')
    .description(
      "show or change a service's HTTPS settings: redirect HTTP to HTTPS, and HSTS (both on by default)",
    )
    .argument('<ref>', 'DEPT/slug, or slug in your own department')
    // Positive options first: a --no-x defined alone would make x default to true, and every
    // call would then change both settings.
    .option('--redirect', 'redirect plain-HTTP requests to HTTPS')
    .option('--no-redirect', 'answer plain-HTTP requests as they are')
    .option('--hsts', 'send Strict-Transport-Security on HTTPS answers')
    .option('--no-hsts', 'send no Strict-Transport-Security')
    .action(
      act<{ redirect?: boolean; hsts?: boolean }>(async (ctx, opts, ref) => {
        const path = `${(await resolveRef(ctx.api, ref)).path}/https`;
        const patch = {
          ...(opts.redirect === undefined ? {} : { httpsRedirect: opts.redirect }),
          ...(opts.hsts === undefined ? {} : { hsts: opts.hsts }),
        };
        const s =
          Object.keys(patch).length === 0
            ? await ctx.api.get<ServiceHttps>(path)
            : await ctx.api.patch<ServiceHttps>(path, patch);
        ctx.print(s, () =>
          record([
            ['redirect to https', yesNo(s.httpsRedirect)],
            ['hsts', yesNo(s.hsts)],
          ]),
        );
      }),
    );
}
