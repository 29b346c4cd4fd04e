/**
 * Signs one Stripe event exactly as Stripe does and POSTs it to a running service: for when the
 * Stripe CLI is not at hand.
 *
 *   npm run send-event -- --type payment_intent.succeeded --payment pay_123 [--intent pi_123] [--amount 2000]
 *   npm run send-event -- --file my-event.json
 *   options: --url http://localhost:3000/v1/webhooks/stripe  --secret whsec_...  (default: STRIPE_WEBHOOK_SECRET's first
 *            secret, else the development secret the service uses outside production)
 *
 * With --type, the event wraps a real Stripe object from test/fixtures/stripe/objects (payment_intent,
 * charge, refund or dispute, chosen by the type) with our payment id in its metadata.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import axios from 'axios';
import { signStripePayload } from '../src/providers/stripe/stripe-webhook-signature';
import { DEV_WEBHOOK_SECRET } from '../src/shared/config';

const FIXTURES = path.resolve(__dirname, '../test/fixtures/stripe/objects');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;
const id = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;

const INTENT_STATUS: Record<string, string> = {
  'payment_intent.created': 'requires_payment_method',
  'payment_intent.processing': 'processing',
  'payment_intent.requires_action': 'requires_action',
  'payment_intent.succeeded': 'succeeded',
  'payment_intent.payment_failed': 'requires_payment_method',
  'payment_intent.canceled': 'canceled',
  'payment_intent.amount_capturable_updated': 'requires_capture',
};

function objectFor(type: string): Record<string, unknown> {
  const paymentId = arg('payment');
  const intentId = arg('intent') ?? id('pi');
  const amount = Number(arg('amount') ?? 2000);
  const metadata = paymentId ? { payment_id: paymentId } : {};
  if (type.startsWith('payment_intent.')) {
    return {
      ...fixture('payment_intent'),
      id: intentId,
      amount,
      metadata,
      status: INTENT_STATUS[type] ?? 'requires_payment_method',
      next_action: null,
      transfer_data: null,
      last_payment_error:
        type === 'payment_intent.payment_failed'
          ? { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }
          : null,
    };
  }
  if (type.startsWith('charge.dispute.')) return { ...fixture('dispute'), id: arg('dispute') ?? id('dp'), amount, payment_intent: intentId, metadata: {} };
  if (type.startsWith('refund.')) return { ...fixture('refund'), id: arg('refund') ?? id('re'), amount, payment_intent: intentId, status: type === 'refund.failed' ? 'failed' : 'succeeded' };
  if (type.startsWith('charge.')) return { ...fixture('charge'), id: id('ch'), amount, amount_refunded: Number(arg('refunded') ?? amount), payment_intent: intentId, metadata };
  throw new Error(`No fixture for ${type}; pass --file with a whole event instead`);
}

async function main(): Promise<void> {
  const file = arg('file');
  const type = arg('type');
  if (!file && !type) throw new Error('Pass --type <event type> or --file <event.json>');
  const event = file
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
    : { ...fixture('event'), id: id('evt'), type, created: Math.floor(Date.now() / 1000), data: { object: objectFor(type!) } };
  const payload = JSON.stringify(event);
  const secret = arg('secret') ?? process.env.STRIPE_WEBHOOK_SECRET?.split(',')[0]?.trim() ?? DEV_WEBHOOK_SECRET;
  const url = arg('url') ?? `http://localhost:${process.env.PORT ?? 3000}/v1/webhooks/stripe`;
  const res = await axios.post(url, payload, {
    headers: { 'Content-Type': 'application/json', 'Stripe-Signature': signStripePayload(payload, secret) },
    validateStatus: () => true,
  });
  process.stdout.write(`${event.type as string} ${event.id as string} -> ${res.status} ${JSON.stringify(res.data)}\n`);
  if (res.status >= 300) process.exitCode = 1;
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
