import { WebhookEventError, type PaymentProvider, type ProviderWebhookEvent } from '../../providers/payment-provider';
import { AppError } from '../../shared/errors';
import { logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { describeEvent } from './event-shape';
import type { EventScope } from './event-scope';
import type { NewWebhookEvent, WebhookEventRepository } from './webhook-event.repository';

export interface IngestResult {
  id: string;
  type: string;
  duplicate: boolean;
  state: 'pending' | 'ignored';
}

export interface IngestDeps {
  events: WebhookEventRepository;
  /** Verifies and reads deliveries (and signs the mock's and the simulator's). */
  provider: Pick<PaymentProvider, 'verifyWebhookEvent' | 'readEvent' | 'signWebhookPayload'>;
  secrets: string[];
  toleranceSeconds: number;
  metrics: Metrics;
  /** The mode and account whose events are ours; others are stored as ignored. */
  scope: EventScope;
  /** Called when a new event awaits processing, so the worker picks it up at once. */
  onStored: () => void;
}

const IGNORED_LOG: Record<string, string> = {
  unhandled_type: 'webhook event type not handled; stored',
  unhandled_thin_event: 'thin webhook event (no snapshot) not handled; stored',
  livemode_mismatch: "webhook event is of the other mode than the service's key; stored and ignored",
  account_mismatch: 'webhook event is of another Stripe account; stored and ignored',
};

/**
 * Verifies a delivery and stores it once. Nothing is applied here: the answer goes back to Stripe
 * as soon as the event is durable, and the worker applies it. A store failure propagates (5xx), so
 * Stripe delivers again; an event is never acknowledged without being stored.
 *
 * Three separate steps, three separate errors: the signature (400 `signature_invalid`), then the
 * JSON (400 `invalid_json`), then the event's shape (400 `event_invalid`). A signed body is never
 * called badly signed because of what it says.
 */
export class IngestWebhookUseCase {
  constructor(private readonly deps: IngestDeps) {}

  async execute(rawBody: Buffer, signatureHeader: string | undefined, source: 'webhook' | 'simulate' = 'webhook'): Promise<IngestResult> {
    const { secrets, toleranceSeconds } = this.deps;
    const event = this.refusing(() => this.deps.provider.verifyWebhookEvent(rawBody, signatureHeader, { secrets, toleranceSeconds }));
    return this.store(describeEvent(event, source, this.deps.scope));
  }

  /**
   * Serialises, signs (with `secret`, as the provider signs) and ingests one provider-shaped event
   * exactly as a delivery would be: same verification, same inbox. How the mock provider and the
   * simulator feed the webhook pipeline.
   */
  deliver(event: object, secret: string, source: 'webhook' | 'simulate' = 'webhook'): Promise<IngestResult> {
    const payload = JSON.stringify(event);
    return this.execute(Buffer.from(payload, 'utf8'), this.deps.provider.signWebhookPayload(payload, secret), source);
  }

  /**
   * Stores an event read from the provider's events API (the catch-up job) through the same
   * checks and inbox as a delivery, once by id. It carries no signature and needs none: it came
   * from the API over TLS with our secret key. It is stored as the provider's ('webhook' source,
   * so its moves read as Stripe's) with `signature_verified` false, which tells it from a delivery.
   * @throws AppError `event_invalid` when the event has no id, type or data.object.
   */
  async storeFetched(event: Record<string, unknown>): Promise<IngestResult> {
    let read: ProviderWebhookEvent;
    try {
      read = this.deps.provider.readEvent(event);
    } catch (err) {
      throw asAppError(err);
    }
    return this.store({ ...describeEvent(read, 'webhook', this.deps.scope), signatureVerified: false });
  }

  private async store(record: NewWebhookEvent): Promise<IngestResult> {
    const stored = await this.deps.events.insertOnce(record);
    this.deps.metrics.webhookEvents.inc({ type: record.type, result: stored ? 'stored' : 'duplicate' });
    const message = record.outcome ? IGNORED_LOG[record.outcome] : undefined;
    if (stored && message) {
      const log = record.outcome!.endsWith('_mismatch') ? logger.warn.bind(logger) : logger.info.bind(logger);
      log(message, { event_id: record.id, type: record.type, livemode: record.livemode, account: record.account, outcome: record.outcome });
    }
    if (stored) this.deps.metrics.webhookLag.observe({ type: record.type }, Math.max(0, Date.now() / 1000 - record.providerCreated));
    if (stored && record.state === 'pending') this.deps.onStored();
    return { id: record.id, type: record.type, duplicate: !stored, state: record.state };
  }

  /** Runs one step of the checks; a refusal is counted and becomes its 400. */
  private refusing<T>(step: () => T): T {
    try {
      return step();
    } catch (err) {
      this.deps.metrics.webhookEvents.inc({ type: 'unknown', result: 'rejected' });
      throw asAppError(err);
    }
  }
}

/** A provider's refusal of an event becomes the API's 400 with the same code; anything else is left as it is. */
function asAppError(err: unknown): unknown {
  if (!(err instanceof WebhookEventError)) return err;
  return new AppError(err.code, err.message, err.code === 'signature_invalid' ? { param: 'Stripe-Signature' } : undefined);
}
