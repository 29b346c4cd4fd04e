import { SignatureError, verifyStripeSignature } from '../../providers/stripe/stripe-webhook-signature';
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
    this.verify(rawBody, signatureHeader);
    return this.store(this.refusing(() => describeEvent(parseJson(rawBody), rawBody, source, this.deps.scope)));
  }

  /**
   * Stores an event read from the provider's events API (the catch-up job) through the same
   * checks and inbox as a delivery, once by id. It carries no signature and needs none: it came
   * from the API over TLS with our secret key. It is stored as the provider's ('webhook' source,
   * so its moves read as Stripe's) with `signature_verified` false, which tells it from a delivery.
   * @throws AppError `event_invalid` when the event has no id, type or data.object.
   */
  async storeFetched(event: Record<string, unknown>): Promise<IngestResult> {
    const record = describeEvent(event, Buffer.from(JSON.stringify(event), 'utf8'), 'webhook', this.deps.scope);
    return this.store({ ...record, signatureVerified: false });
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

  private verify(rawBody: Buffer, signatureHeader: string | undefined): void {
    this.refusing(() => verifyStripeSignature(rawBody, signatureHeader, this.deps.secrets, this.deps.toleranceSeconds));
  }

  /** Runs one step of the checks; a refusal is counted and becomes its 400. */
  private refusing<T>(step: () => T): T {
    try {
      return step();
    } catch (err) {
      this.deps.metrics.webhookEvents.inc({ type: 'unknown', result: 'rejected' });
      if (err instanceof SignatureError) throw new AppError('signature_invalid', `Webhook signature verification failed: ${err.message}`, { param: 'Stripe-Signature' });
      throw err;
    }
  }
}

function parseJson(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    throw new AppError('invalid_json', 'The webhook body is signed but is not valid JSON');
  }
}
