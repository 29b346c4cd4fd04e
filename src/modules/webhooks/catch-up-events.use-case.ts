import type { PaymentProvider } from '../../providers/payment-provider';
import { AppError } from '../../shared/errors';
import { logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { providerPacer } from '../../shared/provider-pacer';
import type { EventScanRepository } from './event-scan.repository';
import type { IngestWebhookUseCase } from './ingest-webhook.use-case';

/** Stripe keeps events for 30 days (https://docs.stripe.com/api/events); nothing older can be listed. */
export const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;
/** Stripe's largest page of GET /v1/events. */
const PAGE_SIZE = 100;

export interface CatchUpDeps {
  provider: Pick<PaymentProvider, 'name' | 'listEvents'>;
  ingest: Pick<IngestWebhookUseCase, 'storeFetched'>;
  scans: EventScanRepository;
  metrics: Metrics;
  /** `undelivered`: `delivery_success=false` only; `all`: every event of the window. */
  scope: 'undelivered' | 'all';
  /** Seconds listed again before the last finished pass. */
  overlapSeconds: number;
  /** Events the inbox lacks, stored per run at most (a page may take it up to 99 over). */
  maxEvents: number;
  /** GET /v1/events requests per second at most; 0: unpaced. */
  requestsPerSecond: number;
  /** Unix ms; tests and the bench pin it. */
  now?: () => number;
}

/** What one pass did. `complete` false: the per-run cap stopped it; the next run lists the window again. */
export interface CatchUpResult {
  /** Unix seconds: the window listed was [since, start of the pass]. */
  since: number;
  pages: number;
  /** Events the provider listed in the window. */
  listed: number;
  /** Events newly stored in the inbox. */
  stored: number;
  /** Listed events the inbox already held (delivered, or caught up before). */
  duplicates: number;
  /** Events the inbox refuses (no id, type or data.object): logged, not stored. */
  invalid: number;
  complete: boolean;
}

/**
 * Lists the provider's events the webhook may have missed (GET /v1/events, newest first, 100 a
 * page with `starting_after`) and stores those the inbox does not hold, through the same checks
 * and insert as a delivery (deduplicated by event id: a late delivery of the same event is a
 * duplicate, and so is a caught-up copy of a delivered one). The worker then applies them as any
 * other stored event.
 *
 * Window: from the start of the last finished pass (minus `overlapSeconds`), or before any pass
 * from the newest event stored from the provider (minus the overlap), never older than Stripe's
 * 30 days. The mark is the pass's start, not the newest stored event: webhooks flowing again after
 * an outage store new events first, and a cursor on those would skip what the outage left behind.
 *
 * Events are stored oldest first once the pass has listed them, so the worker (which applies
 * oldest first) never sees a newer event of a payment before an older one this pass brings.
 * A provider failure fails the run (nothing stored, the mark stays); the next run lists again.
 */
export class CatchUpEventsUseCase {
  /** Keeps GET /v1/events under `requestsPerSecond` (Stripe allows 25 requests/s in test mode, 100 live). */
  private readonly pace: () => Promise<void>;

  constructor(private readonly deps: CatchUpDeps) {
    this.pace = providerPacer(deps.requestsPerSecond);
  }

  async execute(): Promise<CatchUpResult> {
    const { provider, scans } = this.deps;
    const now = () => (this.deps.now ?? Date.now)();
    const startedAt = Math.floor(now() / 1000);
    const oldest = startedAt - EVENT_RETENTION_SECONDS + 60; // a minute inside the retention, so the bound is never refused
    const mark = (await scans.scannedThrough(provider.name)) ?? (await scans.newestProviderEvent()) ?? oldest;
    const since = Math.max(oldest, mark - this.deps.overlapSeconds);

    const missing: Array<Record<string, unknown>> = [];
    let listedCount = 0;
    const seen = new Set<string>();
    let pages = 0;
    let startingAfter: string | undefined;
    let complete = true;
    for (;;) {
      await this.pace();
      const page = await provider.listEvents({
        createdGte: since,
        limit: PAGE_SIZE,
        startingAfter,
        deliverySuccess: this.deps.scope === 'undelivered' ? false : undefined,
      });
      pages += 1;
      listedCount += page.data.length;
      // Only events the inbox lacks count against the cap, so a backlog larger than the cap is not
      // listed again and again from the newest (already stored) end without ever reaching the rest.
      const known = await scans.knownIds(page.data.map((e) => e.id).filter((id): id is string => typeof id === 'string'));
      for (const event of page.data) {
        const id = typeof event.id === 'string' ? event.id : undefined;
        if (id && (seen.has(id) || known.has(id))) continue;
        if (id) seen.add(id);
        missing.push(event);
      }
      const last = page.data.at(-1)?.id;
      if (!page.hasMore || typeof last !== 'string') break;
      if (missing.length >= this.deps.maxEvents) {
        complete = false;
        break;
      }
      startingAfter = last;
    }

    const result: CatchUpResult = { since, pages, listed: listedCount, stored: 0, duplicates: listedCount - missing.length, invalid: 0, complete };
    // Oldest first: the list is newest first; `created` ties keep the list's order reversed.
    for (const event of missing.reverse().sort((a, b) => Number(a.created) - Number(b.created))) {
      try {
        const stored = await this.deps.ingest.storeFetched(event);
        if (stored.duplicate) result.duplicates += 1;
        else {
          result.stored += 1;
          this.deps.metrics.webhookCaughtUp.inc({ type: stored.type });
        }
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        result.invalid += 1;
        logger.warn('catch-up: provider event refused by the inbox', { event_id: event.id, err: err.message });
      }
    }
    if (complete) await scans.markScanned(provider.name, startedAt);
    if (result.stored > 0 || !complete) logger.info('catch-up: stored provider events the webhook missed', { ...result });
    return result;
  }
}
