import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../src/container';
import { bearer } from './auth';
import { rows } from './database';
import type { FakeStripe } from './fake-stripe';
import { deliver } from './stripe-events';

/** The payment fields a webhook test attaches events to. */
export interface CreatedPayment {
  id: string;
  provider_payment_id: string;
  status: string;
  amount: number;
}

/** Creates a payment through the API (201), optionally confirmed at once with a test PaymentMethod. */
export async function createPayment(app: Express, token: string, body: Record<string, unknown> = {}): Promise<CreatedPayment> {
  const res = await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd', ...body });
  expect(res.status, res.text).to.equal(201);
  return res.body as CreatedPayment;
}

/** A payment that succeeded at the fake Stripe (confirmed with pm_card_visa), and its charge id. */
export type SucceededPayment = CreatedPayment & { chargeId: string };

/** Creates a payment confirmed at once with pm_card_visa, checks it succeeded, and reads its charge id off the fake Stripe. */
export async function succeededPayment(app: Express, token: string, stripe: FakeStripe): Promise<SucceededPayment> {
  const payment = await createPayment(app, token, { payment_method: 'pm_card_visa' });
  expect(payment.status).to.equal('succeeded');
  return { ...payment, chargeId: String(stripe.intents.get(payment.provider_payment_id)!.latest_charge) };
}

/** Delivers one signed event (200 expected) and lets the webhook worker apply everything due. */
export async function deliverAndDrain(target: { app: Express; container: Container }, event: object): Promise<void> {
  const res = await deliver(target.app, event);
  expect(res.status, res.text).to.equal(200);
  await target.container.webhooks.worker.drain();
}

/** A stored webhook event's columns, as the database has them. */
export async function storedEvent(id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await rows('SELECT * FROM webhook_events WHERE id = :id', { id });
  return row;
}

export async function historyOf(paymentId: string) {
  return rows<{ from_status: string | null; to_status: string; source: string; event_id: string | null }>(
    'SELECT from_status, to_status, source, event_id FROM payment_status_history WHERE payment_id = :paymentId ORDER BY id',
    { paymentId },
  );
}

export async function outboxTypes(paymentId: string): Promise<string[]> {
  const found = await rows<{ type: string }>('SELECT type FROM outbox_events WHERE aggregate_id = :paymentId ORDER BY sequence', { paymentId });
  return found.map((r) => r.type);
}

export async function paymentRow(id: string) {
  const [row] = await rows<Record<string, unknown>>('SELECT * FROM payments WHERE id = :id', { id });
  return row;
}

/** Waits (bounded) for an asynchronous write to show up; no timing is asserted, only that it happens. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, attempts = 100): Promise<T> {
  for (let i = 0; i < attempts; i += 1) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * Runs `fn` (a measured worker drain) with every due event other than `ours` parked for its duration:
 * events that other tests left retrying in the shared database would otherwise join the claim and,
 * failing again, send their batch to per-event transactions. Their next attempt is put back after.
 */
export async function withOtherEventsParked<T>(ours: string[], fn: () => Promise<T>): Promise<T> {
  const parked = await rows<{ id: string; next_attempt_at: Date }>(
    `UPDATE webhook_events w SET next_attempt_at = now() + interval '1 hour' FROM webhook_events o
      WHERE w.id = o.id AND w.state IN ('pending', 'retrying') AND NOT (w.id = ANY(ARRAY[:ours]::text[]))
      RETURNING w.id, o.next_attempt_at`,
    { ours },
  );
  try {
    return await fn();
  } finally {
    for (const p of parked) await rows(`UPDATE webhook_events SET next_attempt_at = :at WHERE id = :id`, { id: p.id, at: p.next_attempt_at });
  }
}
