import type { PaymentProvider } from '../../src/providers/payment-provider';

type Operation = 'createPaymentIntent' | 'confirmPaymentIntent' | 'cancelPaymentIntent' | 'retrievePaymentIntent';

/** One call the service made to its provider, with the arguments it passed. */
export interface ProviderCall {
  operation: Operation;
  args: unknown[];
}

export type RecordingProvider = PaymentProvider & { calls: ProviderCall[]; callsTo(operation: Operation): ProviderCall[] };

/**
 * Wraps any provider (the mock, or Stripe against the fake) and records every call, so the same
 * assertion "the provider was (not) called" works for both.
 */
export function recording(inner: PaymentProvider): RecordingProvider {
  const wrapper = Object.create(inner) as RecordingProvider;
  wrapper.calls = [];
  wrapper.callsTo = (operation) => wrapper.calls.filter((c) => c.operation === operation);
  const operations: Operation[] = ['createPaymentIntent', 'confirmPaymentIntent', 'cancelPaymentIntent', 'retrievePaymentIntent'];
  for (const operation of operations) {
    const original = inner[operation].bind(inner) as (...args: unknown[]) => Promise<unknown>;
    (wrapper as unknown as Record<Operation, unknown>)[operation] = (...args: unknown[]) => {
      wrapper.calls.push({ operation, args });
      return original(...args);
    };
  }
  return wrapper;
}
