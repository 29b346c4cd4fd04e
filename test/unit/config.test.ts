import { expect } from 'chai';
import { ConfigError, DEV_JWT_SECRET, DEV_WEBHOOK_SECRET, loadConfig } from '../../src/shared/config';

/** Everything production needs; each test takes one thing away or changes it. */
const PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://payments@db:5432/payments',
  STRIPE_SECRET_KEY: 'sk_live_example',
  STRIPE_WEBHOOK_SECRET: 'whsec_live_example',
  JWT_SECRET: 'a-production-secret-that-is-long-enough-0123456789',
};

const without = (name: string) => Object.fromEntries(Object.entries(PRODUCTION).filter(([k]) => k !== name));
const refusal = (env: Record<string, string>) => () => loadConfig(env);

describe('config: loadConfig', () => {
  it('when nothing is set, then a development config: mock provider, embedded database, dev JWT secret, port 3000', () => {
    const config = loadConfig({});
    expect(config).to.include({ env: 'development', isProduction: false, port: 3000, provider: 'mock' });
    expect(config.database.url).to.equal(undefined);
    expect(config.jwt.secret).to.equal(DEV_JWT_SECRET);
    expect(config.stripe.webhookSecrets).to.deep.equal([DEV_WEBHOOK_SECRET]);
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('when STRIPE_SECRET_KEY is set and PAYMENT_PROVIDER is not, then the provider is stripe', () => {
    expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_test_x' }).provider).to.equal('stripe');
  });

  it('when PAYMENT_PROVIDER=mock is set beside a Stripe key, then the explicit choice wins', () => {
    expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_test_x', PAYMENT_PROVIDER: 'mock' }).provider).to.equal('mock');
  });

  it('when PAYMENT_PROVIDER=stripe has no STRIPE_SECRET_KEY, then it refuses, naming the variable', () => {
    expect(refusal({ PAYMENT_PROVIDER: 'stripe' })).to.throw(ConfigError, /STRIPE_SECRET_KEY/);
  });

  for (const port of ['abc', '70000', '-1', '80.5']) {
    it(`when PORT is ${port}, then it refuses, naming PORT`, () => {
      expect(refusal({ PORT: port })).to.throw(ConfigError, /PORT/);
    });
  }

  it('when PORT is set, then it is a number', () => {
    expect(loadConfig({ PORT: '8080' }).port).to.equal(8080);
  });

  it('when a variable is set but empty (PORT= in a .env), then it counts as unset, not as 0', () => {
    const config = loadConfig({ PORT: '', RATE_LIMIT_PER_MINUTE: '', STRIPE_MAX_NETWORK_RETRIES: ' ' });
    expect(config.port).to.equal(3000);
    expect(config.rateLimitPerMinute).to.equal(600);
    expect(config.stripe.maxNetworkRetries).to.equal(2);
  });

  it('when several variables are bad, then the error names each of them', () => {
    expect(refusal({ PORT: 'abc', LOG_LEVEL: 'loud' })).to.throw(ConfigError, /PORT.*LOG_LEVEL/);
  });

  it('when STRIPE_WEBHOOK_SECRET lists several secrets, then all are kept (rolling a secret)', () => {
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_a, whsec_b' }).stripe.webhookSecrets).to.deep.equal(['whsec_a', 'whsec_b']);
  });

  it('when a public key is configured outside production, then the dev secret is not used beside it', () => {
    expect(loadConfig({ JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nabc' }).jwt).to.include({ secret: undefined, publicKey: '-----BEGIN PUBLIC KEY-----\nabc' });
  });
});

describe('config: production refuses to start unsafe', () => {
  it('when EVENT_WEBHOOK_URLS are set without EVENT_WEBHOOK_SECRET, then it refuses: events must be signed', () => {
    expect(refusal({ ...PRODUCTION, EVENT_WEBHOOK_URLS: 'https://hooks.example/payments' })).to.throw(ConfigError, /EVENT_WEBHOOK_SECRET/);
    const config = loadConfig({ ...PRODUCTION, EVENT_WEBHOOK_URLS: 'https://hooks.example/payments', EVENT_WEBHOOK_SECRET: 'a-real-signing-secret' });
    expect(config.eventWebhookSecret).to.equal('a-real-signing-secret');
  });

  it('when everything is set, then production starts with the given secrets', () => {
    const config = loadConfig(PRODUCTION);
    expect(config).to.include({ isProduction: true, provider: 'stripe' });
    expect(config.jwt.secret).to.equal(PRODUCTION.JWT_SECRET);
    expect(config.stripe.webhookSecrets).to.deep.equal(['whsec_live_example']);
  });

  it('when JWT_SECRET is the development secret, then it refuses', () => {
    expect(refusal({ ...PRODUCTION, JWT_SECRET: DEV_JWT_SECRET })).to.throw(ConfigError, /JWT_SECRET \(the development secret is refused\)/);
  });

  it('when no JWT key is set at all, then it refuses instead of falling back to the dev secret', () => {
    expect(refusal(without('JWT_SECRET'))).to.throw(ConfigError, /JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
  });

  it('when JWT_SECRET is shorter than 32 characters, then it refuses', () => {
    expect(refusal({ ...PRODUCTION, JWT_SECRET: 'short' })).to.throw(ConfigError, /at least 32 characters/);
  });

  it('when a JWKS URL replaces the secret, then it starts', () => {
    expect(loadConfig({ ...without('JWT_SECRET'), JWT_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json' }).jwt.secret).to.equal(undefined);
  });

  it('when DATABASE_URL is missing, then it refuses (the embedded database is for development)', () => {
    expect(refusal(without('DATABASE_URL'))).to.throw(ConfigError, /DATABASE_URL/);
  });

  it('when STRIPE_SECRET_KEY is missing, then it refuses (no mock provider in production)', () => {
    expect(refusal(without('STRIPE_SECRET_KEY'))).to.throw(ConfigError, /STRIPE_SECRET_KEY/);
  });

  it('when PAYMENT_PROVIDER=mock is asked for, then it refuses', () => {
    expect(refusal({ ...PRODUCTION, PAYMENT_PROVIDER: 'mock' })).to.throw(ConfigError, /mock provider is refused/);
  });

  it('when STRIPE_WEBHOOK_SECRET is missing, then it refuses instead of using the dev secret', () => {
    expect(refusal(without('STRIPE_WEBHOOK_SECRET'))).to.throw(ConfigError, /STRIPE_WEBHOOK_SECRET/);
  });

  it('when STRIPE_WEBHOOK_SECRET is the development secret, then it refuses', () => {
    expect(refusal({ ...PRODUCTION, STRIPE_WEBHOOK_SECRET: DEV_WEBHOOK_SECRET })).to.throw(ConfigError, /development secret is refused/);
  });

  it('when several things are missing, then one error lists them all', () => {
    expect(refusal({ NODE_ENV: 'production' })).to.throw(ConfigError, /DATABASE_URL.*STRIPE_SECRET_KEY.*STRIPE_WEBHOOK_SECRET.*JWT_SECRET/);
  });
});
