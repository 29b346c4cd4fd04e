import { expect } from 'chai';
import { canMove, isBehind, isCancelable, isConfirmable, isOpen, PAYMENT_STATUSES, type PaymentStatus } from '../../src/modules/payments/payment-status';

/** The move table of API.md, copied by hand: the code must agree with the contract, not with itself. */
const API_MD_MOVES: Record<PaymentStatus, PaymentStatus[]> = {
  pending: ['requires_action', 'processing', 'succeeded', 'failed', 'canceled'],
  requires_action: ['processing', 'succeeded', 'failed', 'canceled'],
  processing: ['succeeded', 'failed', 'canceled'],
  failed: ['requires_action', 'processing', 'succeeded', 'canceled'],
  succeeded: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  canceled: [],
};

describe('payment status: the move table', () => {
  it('when the statuses are listed, then they are exactly the ones of API.md', () => {
    expect([...PAYMENT_STATUSES]).to.have.members(Object.keys(API_MD_MOVES));
  });

  for (const from of PAYMENT_STATUSES) {
    for (const to of PAYMENT_STATUSES) {
      const allowed = API_MD_MOVES[from].includes(to);
      it(`when ${from} -> ${to} is asked, then it is ${allowed ? 'allowed' : 'refused'}`, () => {
        expect(canMove(from, to)).to.equal(allowed);
      });
    }
  }

  it('when a payment is refunded or canceled, then it is terminal', () => {
    for (const to of PAYMENT_STATUSES) {
      expect(canMove('refunded', to), `refunded -> ${to}`).to.equal(false);
      expect(canMove('canceled', to), `canceled -> ${to}`).to.equal(false);
    }
  });
});

describe('payment status: what an API caller may do', () => {
  it('when a payment is open (pending, requires_action, processing, failed), then only then is its client secret shown', () => {
    expect(PAYMENT_STATUSES.filter(isOpen)).to.have.members(['pending', 'requires_action', 'processing', 'failed']);
  });

  it('when a payment is pending, requires_action or failed (retryable), then it may be confirmed', () => {
    expect(PAYMENT_STATUSES.filter(isConfirmable)).to.have.members(['pending', 'requires_action', 'failed']);
  });

  it('when a payment may move to canceled in the table, then it may be canceled', () => {
    expect(PAYMENT_STATUSES.filter(isCancelable)).to.have.members(['pending', 'requires_action', 'processing', 'failed']);
  });

  it('when late news would move a payment backwards (processing after succeeded), then it is behind', () => {
    expect(isBehind('succeeded', 'processing')).to.equal(true);
    expect(isBehind('refunded', 'succeeded')).to.equal(true);
    expect(isBehind('processing', 'succeeded')).to.equal(false);
    expect(isBehind('pending', 'requires_action')).to.equal(false);
  });
});
