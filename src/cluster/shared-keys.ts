import { createHmac } from 'node:crypto';
import type { Db } from '../platform/database.ts';
import { keyFingerprint } from './lease.repository.ts';

const LABEL = 'govhost shared key check v1';

/**
 * Refuses to start a replica whose key differs from the one the store's first replica used:
 * secrets sealed by one replica must open on every other. The store keeps only an HMAC of a fixed
 * label under the key, which says nothing of the key.
 */
export async function checkSharedKey(db: Db, name: string, key: Buffer, hint: string): Promise<void> {
  const mine = createHmac('sha256', key).update(LABEL).digest('hex');
  const stored = await keyFingerprint(db, name, mine);
  if (stored !== mine) {
    throw new Error(
      `this process's ${name} key differs from the one the other control-plane processes of this store ` +
        `use: every replica must be given the same key (${hint})`,
    );
  }
}
