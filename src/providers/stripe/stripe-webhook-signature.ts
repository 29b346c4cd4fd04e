import Stripe from 'stripe';

/** How far in the future a signature timestamp may be (clock skew), in seconds. */
const MAX_FUTURE_SKEW_SECONDS = 300;

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/**
 * Verifies `Stripe-Signature` over the raw bytes with the SDK's `signature.verifyHeader` (HMAC-SHA256
 * of `t.body`, https://docs.stripe.com/webhooks#verify-manually), against each secret in turn (so a
 * secret can be rolled), and refuses timestamps older than `toleranceSeconds` or too far ahead.
 *
 * Only the signature is checked here, never the payload: what the body says (a snapshot event, a
 * thin `v2.core.event`, or nothing usable) is the caller's business, so a good signature is never
 * reported as a bad one. (The SDK's `constructEvent` also parses, and throws a plain Error for thin
 * events, which an "any error = bad signature" catch turned into a false `signature_invalid`.)
 * Throws SignatureError when no secret verifies.
 */
export function verifyStripeSignature(rawBody: Buffer, header: string | undefined, secrets: string[], toleranceSeconds: number): void {
  if (!header) throw new SignatureError('Missing Stripe-Signature header');
  const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(header)?.[1]);
  if (!Number.isFinite(timestamp)) throw new SignatureError('Stripe-Signature has no timestamp');
  if (timestamp - Math.floor(Date.now() / 1000) > MAX_FUTURE_SKEW_SECONDS) {
    throw new SignatureError('Stripe-Signature timestamp is in the future');
  }
  const signature = Stripe.webhooks.signature;
  if (!signature) throw new Error('The Stripe SDK has no signature helper');
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      signature.verifyHeader(rawBody, header, secret, toleranceSeconds);
      return;
    } catch (err) {
      if (!(err instanceof Stripe.errors.StripeSignatureVerificationError)) throw err;
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
