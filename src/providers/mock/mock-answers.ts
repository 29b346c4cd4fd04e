import { createHash } from 'node:crypto';
import { checkAmount, type AmountUse } from '../../shared/money';
import { toProviderIntent } from '../stripe/stripe-mappers';
import { ProviderDeclinedError, ProviderRejectedError } from '../payment-provider';
import type { MockAnswer } from './mock-store';
import type { StripeObject } from './stripe-objects';

/** What identifies a request under an idempotency key: the same key with another fingerprint is refused. */
export const fingerprint = (request: unknown): string => createHash('sha256').update(JSON.stringify(request)).digest('hex');

/** Stripe refuses amounts its currency rules forbid; the mock uses the service's one table for them. */
export function refuseAmount(amount: number, currency: string, use: AmountUse): void {
  const problem = checkAmount(amount, currency, use);
  if (problem) throw new ProviderRejectedError(problem.code, problem.message, 'amount');
}

/** The outcome of an operation as an idempotency key keeps it: declines and refusals are answers too. */
export async function answerOf(fn: () => Promise<StripeObject>): Promise<MockAnswer> {
  try {
    return { kind: 'ok', value: await fn() };
  } catch (err) {
    if (err instanceof ProviderDeclinedError && err.intent) return { kind: 'declined', error: err.error, intent: err.intent.raw as StripeObject };
    if (err instanceof ProviderRejectedError) return { kind: 'rejected', code: err.code, message: err.message, param: err.param };
    throw err;
  }
}

/** A kept answer given again: the object, or the same error. */
export function unwrap(answer: MockAnswer): StripeObject {
  if (answer.kind === 'declined') throw new ProviderDeclinedError(answer.error, toProviderIntent(structuredClone(answer.intent) as never));
  if (answer.kind === 'rejected') throw new ProviderRejectedError(answer.code, answer.message, answer.param ?? undefined);
  return structuredClone(answer.value) as StripeObject;
}
