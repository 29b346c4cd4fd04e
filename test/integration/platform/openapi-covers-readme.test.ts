import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../../helpers/test-app';

/**
 * Routes the README names that are not this service's: Stripe's API (the mock's `GET /v1/events`,
 * the reconcile's `GET /v1/refunds/:id`) and the order service's.
 */
const NOT_OURS = ['/v1/events', '/v1/refunds/{id}', '/v1/orders/{id}', '/v1/orders/{order_id}/payment-status'];

/** Every `METHOD /path` the README mentions, with Express's `:param` written as OpenAPI's `{param}`. */
function readmeRoutes(): Array<{ method: string; path: string }> {
  const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
  const found = new Map<string, { method: string; path: string }>();
  for (const m of readme.matchAll(/\b(GET|POST|DELETE|PATCH|PUT) (\/[A-Za-z0-9/_:.{}-]+)/g)) {
    const route = m[2].replace(/\/$/, '').replace(/:([A-Za-z_]+)/g, '{$1}');
    if (!NOT_OURS.includes(route)) found.set(`${m[1]} ${route}`, { method: m[1].toLowerCase(), path: route });
  }
  return [...found.values()];
}

describe('the OpenAPI document against the README', () => {
  let t: TestApp;
  before(() => {
    t = buildTestApp();
  });

  it('when the README names a route of this service, then /openapi.json documents that method and path', async () => {
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).to.equal(200);
    const routes = readmeRoutes();
    expect(routes.length).to.be.greaterThan(20);
    const missing = routes.filter((r) => !(res.body.paths[r.path] as Record<string, unknown> | undefined)?.[r.method]);
    expect(missing.map((r) => `${r.method.toUpperCase()} ${r.path}`)).to.deep.equal([]);
  });
});
