import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { Db } from '../platform/database.ts';
import type { SecretBox } from '../platform/secrets.ts';
import * as repo from './acme.repository.ts';

/** Where the platform gets certificates from (GOVHOST_ACME_*). */
export interface AcmeCaSettings {
  directoryUrl: string;
  email: string | null;
  /** A PEM file of CAs trusted for the directory's own HTTPS (a private CA, pebble's test CA). */
  caFile: string | null;
  /** Polling of orders and authorizations (acme-client's backoff); its defaults when unset. */
  pollMinMs?: number;
  pollMaxMs?: number;
}

/**
 * Trusts `caFile` for the ACME client's requests only, besides Node's usual roots. `acme.axios` is
 * acme-client's own axios instance: no other request of the process goes through it, and TLS
 * verification stays on everywhere.
 */
let trusted: string | null = null;
function trustCa(caFile: string | null): void {
  if (!caFile || caFile === trusted) return;
  acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, readFileSync(caFile, 'utf8')] });
  trusted = caFile;
}

/**
 * The platform's ACME client, with the account stored for this directory, or a new account made
 * (and stored, its key sealed) when there is none. Run under a lease: the account is made once;
 * should two writers still race, the first stored account wins and both use it.
 */
export async function acmeClient(db: Db, box: SecretBox, ca: AcmeCaSettings): Promise<acme.Client> {
  trustCa(ca.caFile);
  const poll = {
    ...(ca.pollMinMs === undefined ? {} : { backoffMin: ca.pollMinMs }),
    ...(ca.pollMaxMs === undefined ? {} : { backoffMax: ca.pollMaxMs }),
  };
  const stored = await repo.findAccount(db, ca.directoryUrl);
  if (stored) {
    return new acme.Client({
      directoryUrl: ca.directoryUrl,
      accountKey: box.open(stored.key_sealed),
      accountUrl: stored.account_url,
      ...poll,
    });
  }
  const key = (await acme.crypto.createPrivateEcdsaKey()).toString('utf8');
  const client = new acme.Client({ directoryUrl: ca.directoryUrl, accountKey: key, ...poll });
  await client.createAccount({
    termsOfServiceAgreed: true,
    ...(ca.email ? { contact: [`mailto:${ca.email}`] } : {}),
  });
  const row = await repo.insertAccount(db, {
    directory_url: ca.directoryUrl,
    email: ca.email,
    key_sealed: box.seal(key),
    account_url: client.getAccountUrl(),
  });
  if (row.account_url === client.getAccountUrl()) return client;
  // Another writer stored its account first: use that one, so the platform has one account.
  return new acme.Client({
    directoryUrl: ca.directoryUrl,
    accountKey: box.open(row.key_sealed),
    accountUrl: row.account_url,
    ...poll,
  });
}

/** Orders a certificate for `hostname` over HTTP-01; `answer`/`withdraw` publish the challenge. */
export async function orderCertificate(
  client: acme.Client,
  hostname: string,
  email: string | null,
  challenge: {
    answer(token: string, keyAuthorization: string): Promise<void>;
    withdraw(token: string): Promise<void>;
  },
): Promise<{ chainPem: string; keyPem: string }> {
  const [key, csr] = await acme.crypto.createCsr(
    { altNames: [hostname] },
    await acme.crypto.createPrivateEcdsaKey(),
  );
  const chainPem = await client.auto({
    csr,
    ...(email ? { email } : {}),
    termsOfServiceAgreed: true,
    challengePriority: ['http-01'],
    // The CA checks through the routers; the control plane may not reach them the way the CA does.
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, ch, keyAuthorization) => challenge.answer(ch.token, keyAuthorization),
    challengeRemoveFn: async (_authz, ch) => challenge.withdraw(ch.token),
  });
  return { chainPem, keyPem: key.toString('utf8') };
}
