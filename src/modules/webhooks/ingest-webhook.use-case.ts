import { SignatureError, verifyStripeEvent, type VerifiedEvent } from '../../providers/stripe/stripe-webhook-signature';
import { AppError } from '../../shared/errors';
import { logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { handlerFor, paymentIdFromMetadata } from './handlers';
import type { StripeObject } from './handlers/handler.types';
import type { NewWebhookEvent, WebhookEventRepository } from './webhook-event.repository';

export interface IngestResult {
  id: string;
  type: string;
  duplicate: boolean;
  state: 'pending' | 'ignored';
}

export interface IngestDeps {
  events: WebhookEventRepository;
  secrets: string[];
  toleranceSeconds: number;
  metrics: Metrics;
  /** Called when a new event awaits processing, so the worker picks it up at once. */
  onStored: () => void;
}

/**
 * Verifies a delivery and stores it once. Nothing is applied here: the answer goes back to Stripe
 * as soon as the event is durable, and the worker applies it. A store failure propagates (5xx), so
 * Stripe delivers again; an event is never acknowledged without being stored.
 */
export class IngestWebhookUseCase {
  constructor(private readonly deps: IngestDeps) {}

  async execute(rawBody: Buffer, signatureHeader: string | undefined, source: 'webhook' | 'simulate' = 'webhook'): Promise<IngestResult> {
    const event = this.verify(rawBody, signatureHeader);
    return this.store(describe(event, rawBody, source));
  }

  /**
   * Stores an event read from the provider's events API (the catch-up job) through the same
   * checks and inbox as a delivery, once by id. It carries no signature and needs none: it came
   * from the API over TLS with our secret key. It is stored as the provider's ('webhook' source,
   * so its moves read as Stripe's) with `signature_verified` false, which tells it from a delivery.
   * @throws AppError `parameter_invalid` when the event has no id, type or data.object.
   */
  async storeFetched(event: Record<string, unknown>): Promise<IngestResult> {
    return this.store(describe(event as VerifiedEvent, Buffer.from(JSON.stringify(event), 'utf8'), 'webhook', false));
  }

  private async store(record: NewWebhookEvent): Promise<IngestResult> {
    const stored = await this.deps.events.insertOnce(record);
    this.deps.metrics.webhookEvents.inc({ type: record.type, result: stored ? 'stored' : 'duplicate' });
    if (stored) this.deps.metrics.webhookLag.observe({ type: record.type }, Math.max(0, Date.now() / 1000 - record.providerCreated));
    if (stored && record.outcome === 'unhandled_type') logger.info('webhook event type not handled; stored', { event_id: record.id, type: record.type });
    if (stored && record.state === 'pending') this.deps.onStored();
    return { id: record.id, type: record.type, duplicate: !stored, state: record.state };
  }

  private verify(rawBody: Buffer, signatureHeader: string | undefined): VerifiedEvent {
    try {
      return verifyStripeEvent(rawBody, signatureHeader, this.deps.secrets, this.deps.toleranceSeconds);
    } catch (err) {
      this.deps.metrics.webhookEvents.inc({ type: 'unknown', result: 'rejected' });
      if (err instanceof SignatureError) throw new AppError('signature_invalid', `Webhook signature verification failed: ${err.message}`, { param: 'Stripe-Signature' });
      if (err instanceof SyntaxError) throw new AppError('invalid_json', 'The webhook body is not valid JSON');
      throw err;
    }
  }
}

/** The columns of one stored event, and whether it needs processing at all. */
function describe(event: VerifiedEvent, rawBody: Buffer, source: 'webhook' | 'simulate', signatureVerified = true): NewWebhookEvent {
  // A signed body is only as well-formed as its sender made it: `null` or an array parse fine too.
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const object = isRecord(event) && isRecord(event.data) ? event.data.object : undefined;
  if (!isRecord(event) || typeof event.id !== 'string' || !event.id || typeof event.type !== 'string' || !isRecord(object)) {
    throw new AppError('parameter_invalid', 'The event must have an id, a type and data.object');
  }
  const handled = handlerFor(event.type) !== undefined;
  const paymentId = paymentIdFromMetadata(object as StripeObject);
  // An intent without our payment id was not made by this service (another integration on the account).
  const notOurs = handled && event.type.startsWith('payment_intent.') && !paymentId;
  return {
    id: event.id.slice(0, 255),
    type: event.type.slice(0, 255),
    providerCreated: Number.isFinite(Number(event.created)) ? Number(event.created) : Math.floor(Date.now() / 1000),
    apiVersion: typeof event.api_version === 'string' ? event.api_version : null,
    livemode: event.livemode === true,
    account: typeof event.account === 'string' ? event.account : null,
    objectId: typeof object.id === 'string' ? object.id : null,
    paymentId,
    payload: rawBody.toString('utf8'),
    signatureVerified,
    source,
    state: handled && !notOurs ? 'pending' : 'ignored',
    outcome: !handled ? 'unhandled_type' : notOurs ? 'not_ours' : null,
  };
}
