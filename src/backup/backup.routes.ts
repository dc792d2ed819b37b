import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { recordChange } from '../audit/audit.logic.ts';
import type { DatabaseHandle } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { problemResponses, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { auditContext, authorize } from '../tenancy/principal.ts';
import { createBackup } from './backup.logic.ts';

/** GET /api/v1/backup: the whole platform's state as one archive (backup.logic.ts). */
/** The store's handle, for backups; absent where a process does not own the store (tests). */
export interface BackupRouteDeps {
  store?: Pick<DatabaseHandle, 'kind' | 'dump'> | null;
}

export const backupRoutes: FastifyPluginAsyncTypebox<RouteDeps & BackupRouteDeps> = async (app, deps) => {
  app.get(
    '/backup',
    {
      schema: {
        tags: ['platform'],
        summary:
          'A consistent backup of the running platform (store, bundles, keys) as a gzipped tar: secret material',
        security: secured,
        response: {
          200: Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'application/gzip' }),
          ...problemResponses,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      authorize(caller, 'platform:backup');
      const store = deps.store;
      if (!store) throw new DomainError('GOVHOST_NOT_READY', 'this platform process does not hold the store');
      // Recorded first, so the backup holds the record of its own making.
      await recordChange(deps.db, auditContext(caller), {
        action: 'platform.backup',
        targetType: 'platform',
        targetId: 'backup',
        departmentId: null,
      });
      const stream = await createBackup(store, deps.config.dataDir);
      const name = `govhost-backup-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '')}.tar.gz`;
      return reply
        .type('application/gzip')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(stream);
    },
  );
};
