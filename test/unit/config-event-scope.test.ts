import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/shared/config';

describe('config: which events are ours (mode and account)', () => {
  for (const [key, livemode] of [
    ['sk_test_abc', false],
    ['rk_test_abc', false],
    ['sk_live_abc', true],
    ['rk_live_abc', true],
  ] as const) {
    it(`when STRIPE_SECRET_KEY is ${key.slice(0, 8)}..., then events must have livemode ${livemode}`, () => {
      expect(loadConfig({ STRIPE_SECRET_KEY: key }).stripe.livemode).to.equal(livemode);
    });
  }

  it('when the provider is the mock (even beside a live key), then only test-mode events are ours', () => {
    expect(loadConfig({}).stripe.livemode).to.equal(false);
    expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_live_abc', PAYMENT_PROVIDER: 'mock' }).stripe.livemode).to.equal(false);
  });

  it('when STRIPE_SECRET_KEY is neither a test nor a live key, then it refuses, naming the variable', () => {
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'pk_test_abc' })).to.throw(ConfigError, /STRIPE_SECRET_KEY/);
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'whatever' })).to.throw(ConfigError, /STRIPE_SECRET_KEY/);
  });

  it('when STRIPE_ACCOUNT_ID is set, then it is the expected account; unset, there is none; not an acct_ id, it refuses', () => {
    expect(loadConfig({ STRIPE_ACCOUNT_ID: 'acct_1Abc' }).stripe.accountId).to.equal('acct_1Abc');
    expect(loadConfig({}).stripe.accountId).to.equal(undefined);
    expect(() => loadConfig({ STRIPE_ACCOUNT_ID: 'cus_123' })).to.throw(ConfigError, /STRIPE_ACCOUNT_ID/);
  });
});
