import { type SharingSavings, sharingSavings } from '../capacity/sharing-savings.ts';
import type { Db } from '../platform/database.ts';
import type { Principal } from '../tenancy/principal.ts';
import { PAPER_SHARING } from './paper.ts';
import { authorizeCentral } from './scenario.logic.ts';

/**
 * The savings of sharing on what the platform holds and plans, by capacity's one method (the
 * sharing report prints the same), beside the paper's claim of up to 78 farms, HK$260M [13].
 */
export async function sharingBusinessCase(
  db: Db,
  caller: Principal,
): Promise<SharingSavings & { paper: typeof PAPER_SHARING }> {
  authorizeCentral(caller, 'finance:read');
  return { ...(await sharingSavings(db)), paper: PAPER_SHARING };
}
