import type { ProviderPaymentIntent } from '../../providers/payment-provider';
import type { OutboxEventType } from '../events';
import type { PendingKey } from '../idempotency';
import { statusFromIntent } from './apply-intent';
import type { Payment } from './payment.model';
import { EVENT_FOR_STATUS } from './payment-mover';
import { serializePayment } from './payment.serializer';
import type { PaymentsDeps } from './payments.deps';
import { canMove, type MoveSource } from './payment-status';

/** The answer a request gives for the payment it ends with: HTTP status and the body to serialise. */
export type AnswerFor = (payment: Payment) => { status: number; body: unknown };

/** Where a create's phase 3 stores its answer: the request's pending key and how to answer. */
export interface FinishWith {
  key?: PendingKey;
  answer: AnswerFor;
}

/**
 * The payment as phase 3 leaves it once `intent` is attached and applied (what `applyIntent` would
 * write after the attach), with `updated_at` = `now`; null when the one-statement path does not fit
 * and the locked path must run: the payment has an intent already, the move is refused, or the
 * intent carries a `next_action` (jsonb orders its keys its own way, so an answer serialised from
 * the application's object could differ from a later read of the row).
 */
export function planAttach(payment: Payment, intent: ProviderPaymentIntent, now: Date): Payment | null {
  if (payment.providerPaymentId || intent.nextAction) return null;
  const target = statusFromIntent(intent);
  if (target !== payment.status && !canMove(payment.status, target)) return null;
  const failed = target === 'failed';
  const keepFailure = target === 'canceled';
  return {
    ...payment,
    status: target,
    providerPaymentId: intent.id,
    clientSecret: intent.clientSecret,
    paymentMethod: intent.paymentMethod ?? payment.paymentMethod,
    nextAction: null,
    providerObject: intent.raw,
    failureCode: failed
      ? (intent.lastPaymentError?.declineCode ?? intent.lastPaymentError?.code ?? 'payment_failed')
      : keepFailure
        ? payment.failureCode
        : null,
    failureMessage: failed ? (intent.lastPaymentError?.message ?? null) : keepFailure ? payment.failureMessage : null,
    updatedAt: now,
  };
}

/**
 * Phase 3 of a create in one autocommit statement: the intent attached and applied, the history row
 * (if the status changes), the outbox events (`payment.created`, then the move's), and, with
 * `finish.key` begun, the request's answer stored under its key (so the middleware sends exactly
 * that text and does not complete again). The answer is computed from the planned row before the
 * statement. Null when it does not apply (see `planAttach`) or a webhook attached the intent first:
 * nothing was written, and the caller takes the locked path.
 */
export async function attachAtOnce(
  deps: PaymentsDeps,
  payment: Payment,
  intent: ProviderPaymentIntent,
  source: MoveSource,
  finish?: FinishWith,
): Promise<Payment | null> {
  if (!deps.outbox) return null;
  const next = planAttach(payment, intent, new Date());
  if (!next) return null;
  const gate = 'EXISTS (SELECT 1 FROM u)';
  const attached: Payment = { ...payment, providerPaymentId: next.providerPaymentId, clientSecret: next.clientSecret, updatedAt: next.updatedAt };
  const events: Array<{ type: OutboxEventType; data: Record<string, unknown> }> = [
    { type: 'payment.created', data: { payment: serializePayment(attached) } },
  ];
  const moveEvent = next.status !== payment.status ? EVENT_FOR_STATUS[next.status] : undefined;
  if (moveEvent) events.push({ type: moveEvent, data: { payment: serializePayment(next) } });
  const outbox = deps.outbox.appendCte(next, events, gate);
  let sql = outbox.sql;
  let replacements = outbox.replacements;
  let stored: { status: number; text: string } | undefined;
  const record = finish?.key?.record;
  if (finish && record) {
    const answer = finish.answer(next);
    stored = { status: answer.status, text: JSON.stringify(answer.body) };
    const complete = deps.idempotency.completeCte(record, stored.status, stored.text, gate);
    sql += `, k AS (${complete.sql})`;
    replacements = { ...replacements, ...complete.replacements };
  }
  const done = await deps.payments.attachIntentAtOnce(next, payment.status, source, { sql, replacements });
  if (!done) return null;
  if (stored && finish?.key) deps.idempotency.completedWith(finish.key, stored.status, stored.text);
  if (next.status !== payment.status) deps.mover.countMove(payment, next);
  return next;
}
