import assert from 'node:assert/strict';
import { serviceHostname } from '../catalog/service.logic.ts';
import type { TestApp } from '../test-support/app.ts';

/**
 * A department with a `fees` service and a test payment key of it, made as its developer through
 * the API; `returnUrl` is on the service's own host, the only place a return URL may go, and `dev`
 * is the developer's token.
 */
export async function feesService(t: TestApp, prefix: string) {
  const dept = await t.department(prefix);
  const dev = (await t.user('dept-developer', dept)).token;
  const svc = await t.request(dev, {
    method: 'POST',
    url: '/api/v1/services',
    payload: {
      department: dept,
      slug: 'fees',
      nameEn: 'Fees',
      nameZh: '費用',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    },
  });
  assert.equal(svc.statusCode, 201, svc.body);
  const made = await t.request(dev, {
    method: 'POST',
    url: `/api/v1/services/${dept}/fees/payment-keys`,
    payload: { name: 'web' },
  });
  assert.equal(made.statusCode, 201, made.body);
  return {
    dept,
    dev,
    key: made.json().secret as string,
    returnUrl: `https://${serviceHostname('fees', dept, t.config.domain)}/`,
  };
}
