/** Every status a payment can have; see the move table in API.md. */
export const PAYMENT_STATUSES = [
  'pending',
  'requires_action',
  'processing',
  'succeeded',
  'failed',
  'canceled',
  'partially_refunded',
  'refunded',
] as const;

export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Who moved a payment: written to its history with every move. */
export type MoveSource = 'api' | 'webhook' | 'reconcile' | 'admin' | 'simulate';

/** The only allowed moves. This table is the one place the state machine lives. */
const ALLOWED_MOVES: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  pending: ['requires_action', 'processing', 'succeeded', 'failed', 'canceled'],
  requires_action: ['processing', 'succeeded', 'failed', 'canceled'],
  processing: ['succeeded', 'failed', 'canceled'],
  failed: ['requires_action', 'processing', 'succeeded', 'canceled'],
  succeeded: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  canceled: [],
};

export function canMove(from: PaymentStatus, to: PaymentStatus): boolean {
  return ALLOWED_MOVES[from].includes(to);
}

/** Open payments can still be confirmed or canceled and show their client secret. */
export function isOpen(status: PaymentStatus): boolean {
  return status === 'pending' || status === 'requires_action' || status === 'processing' || status === 'failed';
}

/** Payments that may be confirmed with a payment method (a failed one is retried on the same payment). */
export function isConfirmable(status: PaymentStatus): boolean {
  return status === 'pending' || status === 'requires_action' || status === 'failed';
}

export function isCancelable(status: PaymentStatus): boolean {
  return canMove(status, 'canceled');
}

/**
 * How far along a payment is. News that would put a payment at a lower rank than it already has is
 * late (e.g. `processing` after `succeeded`): recorded and ignored, never applied.
 */
const PROGRESS_RANK: Readonly<Record<PaymentStatus, number>> = {
  pending: 0,
  requires_action: 1,
  failed: 1,
  processing: 2,
  succeeded: 3,
  canceled: 3,
  partially_refunded: 4,
  refunded: 5,
};

export function isBehind(current: PaymentStatus, reported: PaymentStatus): boolean {
  return PROGRESS_RANK[reported] < PROGRESS_RANK[current];
}
