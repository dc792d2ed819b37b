import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why a test that makes certificates cannot run here, or null when openssl is on PATH. */
export async function opensslMissing(): Promise<string | null> {
  try {
    await run('openssl', ['version']);
    return null;
  } catch {
    return 'openssl is not installed (apt-get install openssl; .ci/run installs it)';
  }
}

export interface MadeCertificate {
  /** The leaf, PEM. */
  cert: string;
  key: string;
}

export interface TestPki {
  root: MadeCertificate;
  intermediate: MadeCertificate;
  /** A leaf issued by `intermediate` for `names` (`sans: []` for none), EC P-256 unless `keyAlg` says. */
  leaf(names: string[], opts?: { keyAlg?: string[]; days?: number }): Promise<MadeCertificate>;
  close(): Promise<void>;
}

/**
 * A real PKI made with openssl in a temporary folder: a root CA, an intermediate it signs, and
 * leaves the intermediate signs, as a public CA's chain is built.
 */
export async function testPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'govhost-pki-'));
  let n = 0;
  const path = (name: string) => join(dir, name);
  const newKey = async (alg: string[]) => {
    const file = path(`k${n++}.pem`);
    await run('openssl', ['genpkey', ...alg, '-out', file]);
    return file;
  };
  const EC = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const sign = async (
    subject: string,
    keyFile: string,
    issuer: { cert: string; key: string } | null,
    ext: string,
    days: number,
  ): Promise<string> => {
    const id = n++;
    const csr = path(`r${id}.csr`);
    const out = path(`c${id}.pem`);
    const extFile = path(`e${id}.cnf`);
    await writeFile(extFile, `[x]\n${ext}\n`);
    await run('openssl', ['req', '-new', '-key', keyFile, '-subj', subject, '-out', csr]);
    const by = issuer ? ['-CA', issuer.cert, '-CAkey', issuer.key, '-CAcreateserial'] : ['-signkey', keyFile];
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      ...by,
      '-days',
      String(days),
      '-extfile',
      extFile,
      '-extensions',
      'x',
      '-out',
      out,
    ]);
    return out;
  };
  const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign';
  const rootKey = await newKey(EC);
  const rootCert = await sign('/CN=GovHost Test Root', rootKey, null, CA_EXT, 3650);
  const intKey = await newKey(EC);
  const intCert = await sign(
    '/CN=GovHost Test Intermediate',
    intKey,
    { cert: rootCert, key: rootKey },
    CA_EXT,
    1825,
  );
  const made = async (cert: string, key: string) => ({
    cert: await readFile(cert, 'utf8'),
    key: await readFile(key, 'utf8'),
  });
  return {
    root: await made(rootCert, rootKey),
    intermediate: await made(intCert, intKey),
    async leaf(names, opts = {}) {
      const key = await newKey(opts.keyAlg ?? EC);
      const san = names.length > 0 ? `\nsubjectAltName=${names.map((h) => `DNS:${h}`).join(',')}` : '';
      const cert = await sign(
        `/CN=${names[0] ?? 'no-names'}`,
        key,
        { cert: intCert, key: intKey },
        `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth${san}`,
        opts.days ?? 90,
      );
      return made(cert, key);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
