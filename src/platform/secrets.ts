import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const VERSION = 'v1';

/** Seals and opens values with AES-256-GCM: secrets are stored encrypted, never in clear. */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    const [version, data] = sealed.split(':');
    if (version !== VERSION || !data) throw new Error('not a sealed value');
    const raw = Buffer.from(data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/**
 * A 32-byte key: from `fromEnv` (base64) when set, which every process sharing a PostgreSQL
 * store must use; otherwise from `keyFile`, made once (mode 0600) on first start.
 * @example loadKey(join(dataDir, 'audit.key'), config.auditKey, 'GOVHOST_AUDIT_KEY')
 */
export function loadKey(keyFile: string, fromEnv: string | null | undefined, envName: string): Buffer {
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length !== 32) throw new Error(`${envName} must be the base64 encoding of 32 random bytes`);
    return key;
  }
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${keyFile} must hold the base64 encoding of 32 bytes`);
  return key;
}

/** The platform's secret key: GOVHOST_SECRET_KEY when set, otherwise `secret.key` in the data folder. */
export function loadSecretBox(keyFile: string, fromEnv: string | undefined): SecretBox {
  return new SecretBox(loadKey(keyFile, fromEnv, 'GOVHOST_SECRET_KEY'));
}
