import type { Transaction } from 'sequelize';
import type { Sql } from '../../shared/db/sql';
import { toWebhookEvent, type WebhookEvent, type WebhookEventRow, type WebhookEventState } from './webhook-event.model';

/** A verified event as first stored: queued for the worker, or already settled as ignored. */
export type NewWebhookEvent = Omit<
  WebhookEvent,
  'state' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'receivedAt' | 'processedAt'
> & { state: 'pending' | 'ignored' };

/** A claimed event; `followers` is true when later events of its ordering key wait behind it. */
export type ClaimedWebhookEvent = WebhookEvent & { followers: boolean };

/** How one applied event ends: its final state, the handler's outcome and the payment it was about. */
export interface FinishedEvent {
  id: string;
  state: 'processed' | 'ignored';
  outcome: string;
  paymentId: string | null;
}

/** How long a claimed event stays claimed; a worker that died releases its events after this. */
const CLAIM_LEASE_SECONDS = 60;
/** Any constant works; it only has to be the same for every instance of this service. */
const CLAIM_LOCK_ID = 727_101;

export class WebhookEventRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Stores the event once; false when this event id was stored before (a duplicate delivery).
   * One autocommit statement (one round trip, no transaction control), with every value a bind
   * parameter of the extended protocol: the 1-3 KB payload travels as a parameter instead of being
   * escaped into the SQL text, so the statement PostgreSQL parses stays short.
   */
  async insertOnce(e: NewWebhookEvent): Promise<boolean> {
    const bind: Record<string, unknown> = {
      id: e.id, type: e.type, providerCreated: e.providerCreated, apiVersion: e.apiVersion, livemode: e.livemode,
      account: e.account, objectId: e.objectId, paymentId: e.paymentId, orderingKey: e.orderingKey, payload: e.payload,
      signatureVerified: e.signatureVerified, source: e.source, state: e.state, outcome: e.outcome,
    };
    for (const key of Object.keys(bind)) if (bind[key] === undefined) bind[key] = null;
    const [rows] = await this.sql.sequelize.query(
      `INSERT INTO webhook_events (id, type, provider_created, api_version, livemode, account, object_id, payment_id,
                                   ordering_key, payload, signature_verified, source, state, outcome, processed_at)
       VALUES ($id, $type, $providerCreated, $apiVersion, $livemode, $account, $objectId, $paymentId,
               $orderingKey, $payload, $signatureVerified, $source, $state, $outcome,
               CASE WHEN CAST($state AS text) = 'ignored' THEN now() END)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      { bind },
    );
    return (rows as unknown[]).length === 1;
  }

  /**
   * Claims due events, oldest provider time first (then arrival), at most one per ordering key: an
   * event is due only when no older event of its key is unfinished and none of its key is being
   * applied, so one payment's events are applied one at a time, in order, by any number of workers
   * and replicas. Events whose claim lease ran out (their worker died) are due again.
   *
   * The claim itself runs under one transaction-scoped advisory lock: two claims never interleave,
   * so each sees the other's committed claims and cannot both take events of one key. The lock and
   * the UPDATE go as ONE simple-protocol query of two statements: PostgreSQL runs them as one
   * implicit transaction (the lock is held until the UPDATE commits) and, under READ COMMITTED, the
   * UPDATE takes its snapshot after the lock is granted, as a separate statement in an explicit
   * transaction would; one round trip instead of four (START, lock, UPDATE, COMMIT). The lock and the
   * UPDATE cannot be one statement: a statement's snapshot predates any lock it takes itself.
   * Each claimed event says whether later events of its key wait behind it (`followers`): the worker
   * claims again after a short batch only then, instead of paying an empty claim to find out.
   */
  async claimDue(limit: number): Promise<ClaimedWebhookEvent[]> {
    // Replacements, not bind parameters: the extended protocol allows one statement per query.
    const rows = await this.sql.returning<WebhookEventRow & { followers: boolean }>(
      `SELECT pg_advisory_xact_lock(${CLAIM_LOCK_ID});
       UPDATE webhook_events SET state = 'processing', attempts = attempts + 1,
              locked_until = now() + make_interval(secs => ${CLAIM_LEASE_SECONDS})
        WHERE id IN (
          SELECT e.id FROM webhook_events e
           WHERE ((e.state IN ('pending', 'retrying') AND e.next_attempt_at <= now())
                  OR (e.state = 'processing' AND e.locked_until < now()))
             AND NOT EXISTS (
               SELECT 1 FROM webhook_events o
                WHERE o.ordering_key = e.ordering_key AND o.id <> e.id
                  AND o.state IN ('pending', 'retrying', 'processing')
                  AND ((o.state = 'processing' AND o.locked_until >= now())
                       OR (o.provider_created, o.received_at, o.id) < (e.provider_created, e.received_at, e.id)))
           ORDER BY e.provider_created, e.received_at, e.id
           LIMIT :limit
           FOR UPDATE SKIP LOCKED)
        RETURNING *, EXISTS (SELECT 1 FROM webhook_events f
                              WHERE f.ordering_key = webhook_events.ordering_key AND f.id <> webhook_events.id
                                AND f.state IN ('pending', 'retrying')) AS followers`,
      { limit },
    );
    // The driver hands back both statements' rows; the lock's single row has no id.
    return rows
      .filter((r) => typeof r.id === 'string')
      .map((r) => ({ ...toWebhookEvent(r), followers: r.followers === true }))
      .sort(
        (a, b) => a.providerCreated - b.providerCreated || a.receivedAt.getTime() - b.receivedAt.getTime() || a.id.localeCompare(b.id),
      );
  }

  async finish(id: string, state: 'processed' | 'ignored', outcome: string, paymentId: string | null, t?: Transaction): Promise<void> {
    await this.sql.exec(
      `UPDATE webhook_events SET state = :state, outcome = :outcome, payment_id = COALESCE(:paymentId, payment_id),
              processed_at = now(), locked_until = NULL, last_error = NULL
        WHERE id = :id`,
      { id, state, outcome, paymentId },
      t,
    );
  }

  /**
   * Finishes many applied events in one statement (a worker batch, inside its transaction): the
   * same columns as `finish`, one row of values per event.
   */
  async finishMany(done: FinishedEvent[], t?: Transaction): Promise<void> {
    if (done.length === 0) return;
    await this.sql.exec(
      `UPDATE webhook_events w SET state = v.state, outcome = v.outcome, payment_id = COALESCE(v.payment_id, w.payment_id),
              processed_at = now(), locked_until = NULL, last_error = NULL
         FROM unnest(ARRAY[:ids]::text[], ARRAY[:states]::text[], ARRAY[:outcomes]::text[], ARRAY[:paymentIds]::text[])
              AS v(id, state, outcome, payment_id)
        WHERE w.id = v.id`,
      {
        ids: done.map((d) => d.id),
        states: done.map((d) => d.state),
        outcomes: done.map((d) => d.outcome),
        paymentIds: done.map((d) => d.paymentId),
      },
      t,
    );
  }

  async fail(id: string, state: 'retrying' | 'dead', error: string, nextAttemptAt: Date): Promise<void> {
    await this.sql.exec(
      `UPDATE webhook_events SET state = :state, last_error = :error, next_attempt_at = :nextAttemptAt, locked_until = NULL
        WHERE id = :id`,
      { id, state, error: error.slice(0, 2000), nextAttemptAt },
    );
  }

  /** Puts an event back in the queue for a fresh set of attempts (admin replay). */
  async requeue(id: string): Promise<WebhookEvent | null> {
    const [row] = await this.sql.returning<WebhookEventRow>(
      `UPDATE webhook_events SET state = 'pending', attempts = 0, next_attempt_at = now(), locked_until = NULL, last_error = NULL
        WHERE id = :id AND NOT (state = 'processing' AND locked_until > now())
        RETURNING *`,
      { id },
    );
    return row ? toWebhookEvent(row) : null;
  }

  async findByIds(ids: string[]): Promise<WebhookEvent[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.many<WebhookEventRow>(`SELECT * FROM webhook_events WHERE id IN (:ids)`, { ids });
    return rows.map(toWebhookEvent);
  }

  async findById(id: string): Promise<WebhookEvent | null> {
    const row = await this.sql.one<WebhookEventRow>(`SELECT * FROM webhook_events WHERE id = :id`, { id });
    return row ? toWebhookEvent(row) : null;
  }

  async list(filters: { state?: WebhookEventState; type?: string; limit: number; startingAfter?: string }): Promise<{ data: WebhookEvent[]; hasMore: boolean }> {
    const where: string[] = [];
    const values: Record<string, unknown> = { limit: filters.limit + 1 };
    if (filters.state) (where.push('state = :state'), (values.state = filters.state));
    if (filters.type) (where.push('type = :type'), (values.type = filters.type));
    if (filters.startingAfter) {
      where.push('(received_at, id) < (SELECT received_at, id FROM webhook_events WHERE id = :cursor)');
      values.cursor = filters.startingAfter;
    }
    const rows = await this.sql.many<WebhookEventRow>(
      `SELECT * FROM webhook_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC, id DESC LIMIT :limit`,
      values,
    );
    return { data: rows.slice(0, filters.limit).map(toWebhookEvent), hasMore: rows.length > filters.limit };
  }

  async countByState(): Promise<Record<string, number>> {
    const rows = await this.sql.many<{ state: string; count: string }>(`SELECT state, count(*) AS count FROM webhook_events GROUP BY state`);
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.count)]));
  }
}
