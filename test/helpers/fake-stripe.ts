import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import paymentIntentFixture from '../fixtures/stripe/objects/payment_intent.json';
import refundFixture from '../fixtures/stripe/objects/refund.json';
import { outcomeForPaymentMethod } from '../../src/providers/mock/mock-outcomes';
import { FakeStripeWallet, type StripeObject } from './fake-stripe-wallet';

/** One request the fake received, as Stripe would log it. */
export interface FakeStripeCall {
  method: string;
  path: string;
  idempotencyKey?: string;
  body: Record<string, unknown>;
  query: Record<string, unknown>;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/** The error body of a failure the fake is told to answer with (default: a bare api_error). */
export interface FakeStripeError {
  type: string;
  code?: string;
  message?: string;
  /** Stripe's other error fields (https://docs.stripe.com/api/errors), sent as given. */
  decline_code?: string;
  param?: string;
  doc_url?: string;
  payment_intent?: Record<string, unknown>;
}

type Fault = ({ kind: 'status'; status: number; error?: FakeStripeError } | { kind: 'delay'; ms: number } | { kind: 'reset' }) & {
  /** Only a request to a matching path takes the fault; others pass it by. */
  path?: RegExp;
};
type Intent = Record<string, unknown> & { id: string; status: string };

const stripeId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * A small stateful fake of Stripe's PaymentIntents and Refunds APIs, and of Customers, SetupIntents
 * and card PaymentMethods (`wallet`), spoken to by the real `stripe` SDK through STRIPE_API_URL. It
 * honours Idempotency-Key the way Stripe does (same key, same answer) and can be told to fail the
 * next calls (5xx, slow, connection reset) after or before doing the work.
 */
export class FakeStripe {
  readonly calls: FakeStripeCall[] = [];
  readonly intents = new Map<string, Intent>();
  readonly refunds = new Map<string, Record<string, unknown>>();
  readonly wallet = new FakeStripeWallet();
  /** The status the next created refunds have (Stripe answers `pending` for some payment methods). */
  refundStatus = 'succeeded';
  /** Events GET /v1/events lists, oldest first; `delivered` is Stripe's delivery_success. */
  readonly events: Array<{ event: Record<string, unknown> & { id: string }; delivered: boolean }> = [];
  private readonly replies = new Map<string, { status: number; body: unknown }>();
  private readonly faults: Fault[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  url = '';

  async start(): Promise<this> {
    const app = express();
    app.use(express.urlencoded({ extended: true }));
    app.use((req, res, next) => {
      const call: FakeStripeCall = {
        method: req.method,
        path: req.path,
        idempotencyKey: req.get('Idempotency-Key'),
        body: req.body ?? {},
        query: { ...req.query },
        at: Date.now(),
      };
      this.calls.push(call);
      const index = this.faults.findIndex((f) => !f.path || f.path.test(req.path));
      const fault = index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
      if (fault?.kind === 'reset') return req.socket.destroy();
      if (fault?.kind === 'status') {
        return res.status(fault.status).json({ error: { message: 'Fake Stripe failure', ...(fault.error ?? { type: 'api_error' }) } });
      }
      const proceed = () => {
        const replay = call.idempotencyKey ? this.replies.get(call.idempotencyKey) : undefined;
        if (replay) return res.status(replay.status).set('Idempotent-Replayed', 'true').json(replay.body);
        const original = res.json.bind(res);
        res.json = (body: unknown) => {
          if (call.idempotencyKey && res.statusCode < 500) this.replies.set(call.idempotencyKey, { status: res.statusCode, body });
          return original(body);
        };
        next();
      };
      if (fault?.kind === 'delay') setTimeout(proceed, fault.ms);
      else proceed();
    });

    app.post('/v1/payment_intents', (req, res) => {
      const body = req.body as Record<string, string | Record<string, string>>;
      const id = stripeId('pi');
      const intent: Intent = {
        ...structuredClone(paymentIntentFixture),
        id,
        amount: Number(body.amount),
        currency: body.currency,
        client_secret: `${id}_secret_${randomBytes(8).toString('hex')}`,
        created: Math.floor(Date.now() / 1000),
        description: body.description ?? null,
        metadata: body.metadata ?? {},
        last_payment_error: null,
        next_action: null,
        canceled_at: null,
        transfer_data: null,
        status: 'requires_payment_method',
      };
      this.intents.set(id, intent);
      if (body.confirm === 'true') return this.confirm(intent, String(body.payment_method), res);
      res.json(intent);
    });

    app.post('/v1/payment_intents/:id/confirm', (req, res) => {
      const intent = this.intents.get(req.params.id);
      if (!intent) return missing(res, req.params.id);
      if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) {
        return res.status(400).json({ error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `status is ${intent.status}` } });
      }
      this.confirm(intent, String(req.body.payment_method), res);
    });

    app.post('/v1/payment_intents/:id/cancel', (req, res) => {
      const intent = this.intents.get(req.params.id);
      if (!intent) return missing(res, req.params.id);
      if (intent.status === 'succeeded' || intent.status === 'canceled') {
        return res.status(400).json({ error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `status is ${intent.status}` } });
      }
      Object.assign(intent, { status: 'canceled', canceled_at: Math.floor(Date.now() / 1000), cancellation_reason: 'requested_by_customer' });
      res.json(intent);
    });

    app.post('/v1/refunds', (req, res) => {
      const body = req.body as Record<string, string | Record<string, string>>;
      const intent = this.intents.get(String(body.payment_intent));
      if (!intent) return missing(res, String(body.payment_intent));
      if (intent.status !== 'succeeded') {
        return res.status(400).json({ error: { type: 'invalid_request_error', code: 'charge_not_refundable', message: 'not succeeded' } });
      }
      const refunded = [...this.refunds.values()].filter((r) => r.payment_intent === intent.id).reduce((sum, r) => sum + Number(r.amount), 0);
      const amount = body.amount ? Number(body.amount) : Number(intent.amount) - refunded;
      if (refunded >= Number(intent.amount)) {
        return res.status(400).json({ error: { type: 'invalid_request_error', code: 'charge_already_refunded', message: 'already refunded' } });
      }
      if (refunded + amount > Number(intent.amount)) {
        return res.status(400).json({ error: { type: 'invalid_request_error', code: 'amount_too_large', param: 'amount', message: 'too large' } });
      }
      const refund = {
        ...structuredClone(refundFixture),
        id: stripeId('re'),
        amount,
        currency: intent.currency,
        charge: intent.latest_charge,
        payment_intent: intent.id,
        reason: body.reason ?? null,
        metadata: body.metadata ?? {},
        status: this.refundStatus,
        created: Math.floor(Date.now() / 1000),
      };
      this.refunds.set(refund.id, refund);
      res.json(refund);
    });

    app.get('/v1/refunds/:id', (req, res) => {
      const refund = this.refunds.get(req.params.id);
      if (!refund) return missing(res, req.params.id);
      res.json(refund);
    });

    app.use(this.wallet.routes());

    // GET /v1/events: the events given to `addEvent`, newest first, as Stripe lists them
    // (created[gte], delivery_success, limit, starting_after); the query is recorded in `calls`.
    app.get('/v1/events', (req, res) => {
      const q = req.query as Record<string, string | Record<string, string> | undefined>;
      const limit = Math.min(Math.max(Number(q.limit ?? 10), 1), 100);
      const rawGte = typeof q.created === 'object' ? q.created.gte : q['created[gte]'];
      const gte = typeof rawGte === 'string' ? Number(rawGte) : undefined;
      let list = [...this.events].reverse();
      if (typeof q.starting_after === 'string') {
        const at = list.findIndex((e) => e.event.id === q.starting_after);
        list = at >= 0 ? list.slice(at + 1) : [];
      }
      list = list.filter(
        (e) =>
          (gte === undefined || Number(e.event.created) >= gte) &&
          (q.delivery_success === undefined || String(e.delivered) === q.delivery_success),
      );
      res.json({ object: 'list', url: '/v1/events', has_more: list.length > limit, data: list.slice(0, limit).map((e) => e.event) });
    });

    app.get('/v1/payment_intents/:id', (req, res) => {
      const intent = this.intents.get(req.params.id);
      if (!intent) return missing(res, req.params.id);
      res.json(intent);
    });

    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
      this.server.on('connection', (s) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
    });
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  /**
   * The next `count` requests (to `path` only, if given) answer this HTTP status, with `error` as
   * the error body if given, without doing anything.
   */
  failNext(count: number, status = 500, options: { error?: FakeStripeError; path?: RegExp } = {}): void {
    for (let i = 0; i < count; i += 1) this.faults.push({ kind: 'status', status, ...options });
  }

  /** A card saved on `customerId`, as Stripe.js confirming the customer's SetupIntent would leave it. */
  attachCard(customerId: string, pmId = 'pm_card_visa'): StripeObject {
    return this.wallet.attachCard(customerId, pmId);
  }

  /** The next request does its work only after `ms` (longer than the SDK timeout means an unknown outcome). */
  delayNext(ms: number): void {
    this.faults.push({ kind: 'delay', ms });
  }

  /** The next request's connection is reset before any answer. */
  resetNext(): void {
    this.faults.push({ kind: 'reset' });
  }

  /** Moves an intent as Stripe would after a customer action (3-D Secure done, bank debit settled). */
  setStatus(id: string, status: string): Intent {
    const intent = this.intents.get(id)!;
    intent.status = status;
    return intent;
  }

  /** An event Stripe emitted (and, unless `delivered`, never managed to deliver), listed by GET /v1/events. */
  addEvent(event: Record<string, unknown> & { id: string }, options: { delivered?: boolean } = {}): void {
    this.events.push({ event: structuredClone(event), delivered: options.delivered ?? false });
  }

  callsTo(method: string, pathPattern: RegExp): FakeStripeCall[] {
    return this.calls.filter((c) => c.method === method && pathPattern.test(c.path));
  }

  reset(): void {
    this.calls.length = 0;
    this.faults.length = 0;
    this.refundStatus = 'succeeded';
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private confirm(intent: Intent, paymentMethod: string, res: express.Response): void {
    const outcome = outcomeForPaymentMethod(paymentMethod);
    if (!outcome) {
      res.status(400).json({ error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method', message: `No such PaymentMethod: '${paymentMethod}'` } });
      return;
    }
    intent.payment_method = paymentMethod;
    if (outcome.kind === 'decline') {
      const e = outcome.error;
      Object.assign(intent, {
        status: 'requires_payment_method',
        last_payment_error: { type: 'card_error', code: e.code, decline_code: e.declineCode ?? null, message: e.message },
      });
      res.status(402).json({
        error: { type: 'card_error', code: e.code, decline_code: e.declineCode, message: e.message, payment_intent: intent },
      });
      return;
    }
    const status = outcome.kind === 'succeed' ? 'succeeded' : outcome.kind === 'process' ? 'processing' : 'requires_action';
    Object.assign(intent, {
      status,
      last_payment_error: null,
      next_action: status === 'requires_action' ? { type: 'use_stripe_sdk', use_stripe_sdk: {} } : null,
      latest_charge: status === 'succeeded' ? stripeId('ch') : null,
      amount_received: status === 'succeeded' ? intent.amount : 0,
    });
    res.json(intent);
  }
}

function missing(res: express.Response, id: string): void {
  res.status(404).json({ error: { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: `No such payment_intent: '${id}'` } });
}
