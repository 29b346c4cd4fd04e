import { expect } from 'chai';
import Stripe from 'stripe';
import paymentIntentFixture from '../fixtures/stripe/objects/payment_intent.json';
import { declineError, providerFailure } from '../../src/modules/payments/payment.errors';
import type { Payment } from '../../src/modules/payments/payment.model';
import {
  ProviderDeclinedError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../src/providers/payment-provider';
import { translateStripeError } from '../../src/providers/stripe/stripe-errors';

/**
 * Errors built the way the SDK builds them from an HTTP answer (`StripeError.generate` on the body's
 * `error` plus the status), shaped as https://docs.stripe.com/api/errors documents them.
 */
const stripeError = (statusCode: number, error: Record<string, unknown>) =>
  Stripe.errors.StripeError.generate({ ...error, statusCode, requestId: 'req_test' } as never);

const declinedIntent = {
  ...paymentIntentFixture,
  id: 'pi_3Declined',
  status: 'requires_payment_method',
  last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
};

describe('Stripe adapter: translateStripeError', () => {
  it('when a 402 card_declined carries decline_code and payment_intent, then a decline with both', () => {
    const err = translateStripeError(
      stripeError(402, {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
        doc_url: 'https://stripe.com/docs/error-codes/card-declined',
        payment_intent: declinedIntent,
      }),
    );
    expect(err).to.be.instanceOf(ProviderDeclinedError);
    const declined = err as ProviderDeclinedError;
    expect(declined.error).to.deep.equal({ code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' });
    expect(declined.intent?.id).to.equal('pi_3Declined');
    expect(declined.intent?.status).to.equal('requires_payment_method');
  });

  it('when a 402 card_declined comes without payment_intent, then it is still a decline (final), not an outage', () => {
    const err = translateStripeError(
      stripeError(402, {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
        doc_url: 'https://stripe.com/docs/error-codes/card-declined',
      }),
    );
    expect(err).to.be.instanceOf(ProviderDeclinedError);
    expect((err as ProviderDeclinedError).intent).to.equal(undefined);
    expect((err as ProviderDeclinedError).error.declineCode).to.equal('generic_decline');
  });

  it('when a 402 has no decline_code (expired_card, with a param), then the code is the reason, not an empty decline_code', () => {
    const err = translateStripeError(
      stripeError(402, {
        type: 'card_error',
        code: 'expired_card',
        param: 'exp_month',
        message: 'Your card has expired.',
        doc_url: 'https://stripe.com/docs/error-codes/expired-card',
      }),
    ) as ProviderDeclinedError;
    expect(err).to.be.instanceOf(ProviderDeclinedError);
    expect(err.error.declineCode).to.equal(undefined);
    const answer = declineError({ id: 'pay_1', status: 'failed' } as Payment, err);
    expect(answer.status).to.equal(402);
    expect(answer.code).to.equal('card_declined');
    expect(answer.details?.decline_code).to.equal('expired_card');
  });

  it('when the intent is in the wrong state (400 payment_intent_unexpected_state), then a rejection with that code', () => {
    const err = translateStripeError(
      stripeError(400, {
        type: 'invalid_request_error',
        code: 'payment_intent_unexpected_state',
        message: 'This PaymentIntent could not be confirmed because it has a status of succeeded.',
        doc_url: 'https://stripe.com/docs/error-codes/payment-intent-unexpected-state',
        payment_intent: { ...paymentIntentFixture, status: 'succeeded' },
      }),
    );
    expect(err).to.be.instanceOf(ProviderRejectedError);
    expect((err as ProviderRejectedError).code).to.equal('payment_intent_unexpected_state');
  });

  it('when an object is missing (404 resource_missing), then a rejection with the code and the param', () => {
    const err = translateStripeError(
      stripeError(404, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'payment_method',
        message: "No such PaymentMethod: 'pm_nope'",
        doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
      }),
    ) as ProviderRejectedError;
    expect(err).to.be.instanceOf(ProviderRejectedError);
    expect(err.code).to.equal('resource_missing');
    expect(err.param).to.equal('payment_method');
  });

  it('when a key is reused with other parameters (400 idempotency_error), then a rejection named by the type', () => {
    const err = translateStripeError(
      stripeError(400, {
        type: 'idempotency_error',
        message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.',
      }),
    );
    expect(err).to.be.instanceOf(ProviderRejectedError);
    expect((err as ProviderRejectedError).code).to.equal('idempotency_error');
  });

  it('when Stripe refuses an amount (400 amount_too_small, param amount), then the service answers 400 with its own code', () => {
    const err = translateStripeError(
      stripeError(400, { type: 'invalid_request_error', code: 'amount_too_small', param: 'amount', message: 'Amount must be at least $0.50 usd' }),
    );
    const answer = providerFailure(err);
    expect(answer.status).to.equal(400);
    expect(answer.code).to.equal('amount_too_small');
    expect(answer.param).to.equal('amount');
  });

  const retryable: Array<[string, number, Record<string, unknown>]> = [
    ['401 authentication_error (bad key)', 401, { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_***' }],
    ['403 permission_error', 403, { type: 'invalid_request_error', code: 'secret_key_required', message: 'This API call cannot be made with a publishable API key.' }],
    ['429 rate limit', 429, { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' }],
    ['429 lock_timeout', 429, { type: 'invalid_request_error', code: 'lock_timeout', message: 'This object cannot be accessed right now because another API request or Stripe process is currently accessing it.' }],
    ['409 idempotency key in use', 409, { type: 'idempotency_error', code: 'idempotency_key_in_use', message: 'There is currently another in-progress request using this Idempotent Key.' }],
    ['409 lock_timeout', 409, { type: 'invalid_request_error', code: 'lock_timeout', message: 'This object cannot be accessed right now.' }],
    ['500 api_error', 500, { type: 'api_error', message: 'An unknown error occurred' }],
    ['503 with no type', 503, { message: 'Service Unavailable' }],
  ];
  for (const [what, status, body] of retryable) {
    it(`when Stripe answers ${what}, then the outcome is left open for a retry with the same key (503, not a failure)`, () => {
      const err = translateStripeError(stripeError(status, body));
      expect(err).to.be.instanceOf(ProviderUnavailableError);
      expect(providerFailure(err).status).to.equal(503);
    });
  }

  it('when the SDK gives up on the connection with a timeout, then provider_timeout (504)', () => {
    const err = translateStripeError(
      new Stripe.errors.StripeConnectionError({ message: 'Request aborted due to timeout being reached (1500ms)' } as never),
    );
    expect(err).to.be.instanceOf(ProviderUnavailableError);
    expect((err as ProviderUnavailableError).kind).to.equal('timeout');
    expect(providerFailure(err).status).to.equal(504);
  });

  it('when the error is not Stripe\'s at all, then the outcome is unknown', () => {
    expect(translateStripeError(new Error('socket hang up'))).to.be.instanceOf(ProviderUnavailableError);
  });

  it('when a decline reaches a call other than create or confirm (e.g. a refund), then 402 card_declined, not 503', () => {
    const err = translateStripeError(stripeError(402, { type: 'card_error', code: 'card_declined', decline_code: 'do_not_honor', message: 'declined' }));
    const answer = providerFailure(err);
    expect(answer.status).to.equal(402);
    expect(answer.details?.decline_code).to.equal('do_not_honor');
  });
});
