import { expect } from 'chai';
import request from 'supertest';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { buildTestApp, type TestApp } from '../../helpers/test-app';

describe('docs, metrics and readiness', () => {
  let t: TestApp;
  before(() => {
    t = buildTestApp();
  });

  it('when /openapi.json is fetched, then it documents every endpoint the service serves', async () => {
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.body.openapi).to.match(/^3\./);
    expect(Object.keys(res.body.paths)).to.include.members([
      '/v1/payments',
      '/v1/payments/{id}',
      '/v1/payments/{id}/confirm',
      '/v1/payments/{id}/cancel',
      '/v1/payments/{id}/history',
      '/v1/payments/{id}/refunds',
      '/v1/payment-methods',
      '/v1/payment-methods/setup-intents',
      '/v1/payment-methods/{id}',
      '/v1/webhooks/stripe',
      '/v1/admin/webhook-events',
      '/v1/admin/webhook-events/{id}/replay',
      '/v1/test/simulate',
      '/v1/admin/analytics',
      '/v1/admin/event-deliveries',
      '/v1/admin/event-deliveries/{id}/resend',
      '/health',
      '/ready',
      '/metrics',
    ]);
    expect(res.body.components.schemas.CreatePayment.additionalProperties).to.equal(false);
    expect(res.body.paths['/v1/payments/{id}/refunds']).to.have.keys('post', 'get');
  });

  it('when the admin endpoints are called through the app, then they are served to admins and refused to customers', async () => {
    const admin = bearer(tokenFor('admin_docs', 'admin'));
    const customer = bearer(tokenFor(newUserId()));
    for (const path of ['/v1/admin/analytics', '/v1/admin/event-deliveries', '/v1/admin/webhook-events']) {
      expect((await request(t.app).get(path).set(admin)).status, path).to.equal(200);
      expect((await request(t.app).get(path).set(customer)).status, path).to.equal(403);
    }
    const analytics = await request(t.app).get('/v1/admin/analytics?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z').set(admin);
    expect(analytics.body).to.include({ object: 'analytics' });
  });

  it('when /docs is opened, then a page renders the contract', async () => {
    const res = await request(t.app).get('/docs/').redirects(1);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('swagger-ui');
  });

  it('when /metrics is scraped after a request, then it has the process defaults, the latency histogram by route, and webhook states', async () => {
    await request(t.app).get(`/v1/payments/pay_doesnotexist`).set(bearer(tokenFor(newUserId())));
    const res = await request(t.app).get('/metrics');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('process_cpu_user_seconds_total');
    expect(res.text).to.match(/http_request_duration_seconds_bucket\{[^}]*route="\/v1\/payments\/:id"[^}]*status="404"/);
    expect(res.text).to.match(/webhook_events_stored\{state="dead"\} \d+/);
  });

  it('when the database is up and Redis is not configured, then /ready says so with 200', async () => {
    const res = await request(t.app).get('/ready');
    expect(res.status).to.equal(200);
    expect(res.body.checks).to.deep.equal({ database: 'up', redis: 'not_configured' });
  });
});
