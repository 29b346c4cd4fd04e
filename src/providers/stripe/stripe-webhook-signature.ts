import Stripe from 'stripe';

/** How far in the future a signature timestamp may be (clock skew), in seconds. */
const MAX_FUTURE_SKEW_SECONDS = 300;

/** A verified Stripe event: the parsed envelope, as Stripe sent it. */
export type VerifiedEvent = Record<string, unknown> & { id: string; type: string };

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/**
 * Verifies `Stripe-Signature` over the raw bytes with the SDK, against each secret in turn (so a
 * secret can be rolled), and refuses timestamps older than `toleranceSeconds` or too far ahead.
 * Throws SignatureError for a bad signature, SyntaxError for a body that is not JSON.
 */
export function verifyStripeEvent(rawBody: Buffer, header: string | undefined, secrets: string[], toleranceSeconds: number): VerifiedEvent {
  if (!header) throw new SignatureError('Missing Stripe-Signature header');
  const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(header)?.[1]);
  if (!Number.isFinite(timestamp)) throw new SignatureError('Stripe-Signature has no timestamp');
  if (timestamp - Math.floor(Date.now() / 1000) > MAX_FUTURE_SKEW_SECONDS) {
    throw new SignatureError('Stripe-Signature timestamp is in the future');
  }
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      return Stripe.webhooks.constructEvent(rawBody, header, secret, toleranceSeconds) as unknown as VerifiedEvent;
    } catch (err) {
      if (err instanceof SyntaxError) throw err;
      lastError = err;
    }
  }
  // The SDK's message ends in a long troubleshooting essay; its first sentence is the diagnosis.
  const message = lastError instanceof Error ? lastError.message.split(/\.\s|\n/)[0] : '';
  throw new SignatureError(message || 'No signatures found matching the expected signature');
}

/** A `Stripe-Signature` header for `payload`, made exactly as Stripe makes it (mock events, scripts, tests). */
export function signStripePayload(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}
