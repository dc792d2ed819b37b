// The console shows an entry only to roles the API lets use it: the same table the server
// authorises with, so the two cannot drift apart. Hiding is for convenience; the API decides.
import { PERMISSIONS, type Permission } from '../../src/tenancy/roles.ts';

export type { Permission };

export const can = (role: string, permission: Permission): boolean =>
  (PERMISSIONS[permission] as readonly string[]).includes(role);
