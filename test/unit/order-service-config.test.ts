import { expect } from 'chai';
import { ConfigError, configWarnings, loadConfig } from '../../src/shared/config';

const PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://payments@db:5432/payments',
  STRIPE_SECRET_KEY: 'sk_live_example',
  STRIPE_WEBHOOK_SECRET: 'whsec_live_example',
  JWT_SECRET: 'a-production-secret-that-is-long-enough-0123456789',
};

describe('config: the order service (issue #9)', () => {
  it('when production runs without ORDER_SERVICE_URL, then it starts with a warning naming the risk (the client decides the amount)', () => {
    const warnings = configWarnings(loadConfig(PRODUCTION));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/ORDER_SERVICE_URL is not set.*trusts the amount.*ORDER_SERVICE_REQUIRED/);
  });

  it('when production has ORDER_SERVICE_URL, or it is development, then there is no warning', () => {
    expect(configWarnings(loadConfig({ ...PRODUCTION, ORDER_SERVICE_URL: 'http://orders:8080' }))).to.deep.equal([]);
    expect(configWarnings(loadConfig({}))).to.deep.equal([]);
  });

  it('when ORDER_SERVICE_REQUIRED=true and ORDER_SERVICE_URL is unset, then it refuses to start, naming both', () => {
    expect(() => loadConfig({ ...PRODUCTION, ORDER_SERVICE_REQUIRED: 'true' })).to.throw(ConfigError, /ORDER_SERVICE_REQUIRED.*ORDER_SERVICE_URL/);
    expect(() => loadConfig({ ORDER_SERVICE_REQUIRED: 'true' })).to.throw(ConfigError, /ORDER_SERVICE_URL/);
  });

  it('when the order service is configured, then its token, timeouts, retries and breaker settings are parsed, with defaults', () => {
    const config = loadConfig({ ORDER_SERVICE_URL: 'http://orders:8080', ORDER_SERVICE_TOKEN: 'tok', ORDER_SERVICE_BREAKER_RESET_MS: '250' });
    expect(config.orderService).to.deep.equal({
      url: 'http://orders:8080',
      token: 'tok',
      required: false,
      timeoutMs: 3000,
      attemptTimeoutMs: 1000,
      connectTimeoutMs: 500,
      retries: 2,
      breaker: { minRequests: 5, errorPercent: 50, resetMs: 250 },
    });
  });

  it('when an order service setting is out of range, then it refuses, naming the variable', () => {
    expect(() => loadConfig({ ORDER_SERVICE_RETRIES: '9' })).to.throw(ConfigError, /ORDER_SERVICE_RETRIES/);
    expect(() => loadConfig({ ORDER_SERVICE_TIMEOUT_MS: 'soon' })).to.throw(ConfigError, /ORDER_SERVICE_TIMEOUT_MS/);
  });
});

describe('config: the order service URL (issue #9, QA)', () => {
  it('when ORDER_SERVICE_URL is not an http(s) base URL (another scheme, a query or a fragment), then it refuses to start naming it, instead of answering 503 to every lookup', () => {
    for (const url of ['ftp://orders.local', 'htp://orders.local', 'javascript:alert(1)', 'http://orders.local/?tenant=1', 'http://orders.local/#x']) {
      expect(() => loadConfig({ ORDER_SERVICE_URL: url }), url).to.throw(ConfigError, /ORDER_SERVICE_URL/);
    }
    expect(loadConfig({ ORDER_SERVICE_URL: 'https://orders.local/api' }).orderService.url).to.equal('https://orders.local/api');
  });
});
