import type { ProviderPaymentIntent } from '../../providers/payment-provider';
import type { OutboxEventType } from '../events';
import type { IdempotencyRecord } from '../idempotency';
import { statusFromIntent } from './apply-intent';
import type { Payment } from './payment.model';
import { EVENT_FOR_STATUS } from './payment-mover';
import { serializePayment } from './payment.serializer';
import type { PaymentsDeps } from './payments.deps';
import { canMove, type MoveSource } from './payment-status';

/** The answer a request gives for the payment it ends with: HTTP status and the body to serialise. */
export type AnswerFor = (payment: Payment) => { status: number; body: unknown };

/** Where phase 3 stores the request's answer: under the request's begun key (if any), as `answer` says. */
export interface FinishWith {
  record?: IdempotencyRecord;
  answer: AnswerFor;
}

/**
 * The payment as the locked path would leave it once `intent` is applied (attached first when
 * `attach`), with `updated_at` = `now`; null when the one-statement path does not fit and the locked
 * path must run: the intent is not this payment's (or, to attach, the payment has one already), the
 * move is refused, or the intent carries a `next_action` (jsonb orders its keys its own way, so an
 * answer serialised from the application's object could differ from a later read of the row).
 */
export function planIntent(payment: Payment, intent: ProviderPaymentIntent, now: Date, attach: boolean): Payment | null {
  if (attach ? payment.providerPaymentId !== null : payment.providerPaymentId !== intent.id) return null;
  if (intent.nextAction) return null;
  const target = statusFromIntent(intent);
  if (target !== payment.status && !canMove(payment.status, target)) return null;
  const failed = target === 'failed';
  const keepFailure = target === 'canceled';
  return {
    ...payment,
    status: target,
    providerPaymentId: intent.id,
    clientSecret: attach ? intent.clientSecret : (intent.clientSecret ?? payment.clientSecret),
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
 * `finish.key` begun, the request's answer stored under its key (the middleware then sends exactly
 * that text and does not complete again). Null when it does not apply (see `planIntent`) or the row
 * changed since `payment` was read (a webhook attached the intent first): nothing was written, and
 * the caller takes the locked path.
 */
export function attachAtOnce(deps: PaymentsDeps, payment: Payment, intent: ProviderPaymentIntent, source: MoveSource, finish?: FinishWith): Promise<Payment | null> {
  return writeAtOnce(deps, payment, intent, source, finish, true);
}

/**
 * Phase 3 of a confirm or cancel in one autocommit statement: `attachAtOnce` for a payment that has
 * its intent already (no `payment.created`). Null, with nothing written, when it does not apply or
 * the row changed since `payment` was read.
 */
export function applyAtOnce(deps: PaymentsDeps, payment: Payment, intent: ProviderPaymentIntent, source: MoveSource, finish?: FinishWith): Promise<Payment | null> {
  return writeAtOnce(deps, payment, intent, source, finish, false);
}

async function writeAtOnce(
  deps: PaymentsDeps,
  payment: Payment,
  intent: ProviderPaymentIntent,
  source: MoveSource,
  finish: FinishWith | undefined,
  attach: boolean,
): Promise<Payment | null> {
  if (!deps.outbox) return null;
  const next = planIntent(payment, intent, new Date(), attach);
  if (!next) return null;
  const gate = 'EXISTS (SELECT 1 FROM u)';
  const events: Array<{ type: OutboxEventType; data: Record<string, unknown> }> = [];
  if (attach) {
    const attached: Payment = { ...payment, providerPaymentId: next.providerPaymentId, clientSecret: next.clientSecret, updatedAt: next.updatedAt };
    events.push({ type: 'payment.created', data: { payment: serializePayment(attached) } });
  }
  const moveEvent = next.status !== payment.status ? EVENT_FOR_STATUS[next.status] : undefined;
  if (moveEvent) events.push({ type: moveEvent, data: { payment: serializePayment(next) } });
  const parts: string[] = [];
  let replacements: Record<string, unknown> = {};
  if (events.length > 0) {
    const outbox = deps.outbox.appendCte(next, events, gate);
    parts.push(outbox.sql);
    replacements = outbox.replacements;
  }
  let stored: { status: number; text: string } | undefined;
  const record = finish?.record;
  if (finish && record) {
    const answer = finish.answer(next);
    stored = { status: answer.status, text: JSON.stringify(answer.body) };
    const complete = deps.idempotency.completeCte(record, stored.status, stored.text, gate);
    parts.push(`k AS (${complete.sql})`);
    replacements = { ...replacements, ...complete.replacements };
  }
  const done = await deps.payments.applyIntentAtOnce(next, payment, source, { sql: parts.join(', '), replacements });
  if (!done) return null;
  if (events.length > 0) deps.outbox.appended();
  if (stored && record) deps.idempotency.completedWith(record, stored.status, stored.text);
  if (next.status !== payment.status) deps.mover.countMove(payment, next);
  return next;
}
