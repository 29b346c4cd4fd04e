import type { Sequelize, Transaction } from 'sequelize';
import { withTransaction } from '../../shared/db/database';
import type { Sql } from '../../shared/db/sql';
import { AppError } from '../../shared/errors';
import { IdempotentReplay, type PendingKey, type SqlPart } from './pending-key';

// Waits (ms) between tries of `release`; the last entry (undefined) gives up and throws.
const RELEASE_RETRY_DELAYS_MS = [100, 400, undefined];

/** Where a request stopped (brandur's "recovery points"): a retry resumes from here. */
export type RecoveryPoint = 'started' | 'payment_created' | 'refund_created' | 'finished';

export interface IdempotencyRecord {
  id: number;
  /** True when this key was seen before: the request is a retry resuming earlier work. */
  resumed: boolean;
  recoveryPoint: RecoveryPoint;
  paymentId: string | null;
  /** Another object the request created (a refund), so a retry resumes with it. */
  resourceId: string | null;
  /** `locked_at` as this request set it (text, to the microsecond): unlocking only matches our own lock. */
  lockToken?: string;
  /** Set once the handler's own statement stored the answer (`completeCte`): the middleware sends exactly this. */
  answered?: { status: number; text: string };
}

export type BeginResult =
  | { kind: 'proceed'; record: IdempotencyRecord }
  | { kind: 'replay'; status: number; body: string };

interface KeyRow {
  id: string;
  request_method: string;
  request_path: string;
  request_fingerprint: string;
  locked_at: Date | null;
  lock_expired: boolean;
  retention_over: boolean;
  recovery_point: RecoveryPoint;
  payment_id: string | null;
  resource_id: string | null;
  response_status: number | null;
  response_body: string | null;
}

export interface BeginRequest {
  userId: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
}

/**
 * Idempotency keys in PostgreSQL, scoped per user. A key is locked while its request runs; the lock
 * is a lease, so a request whose process died can be resumed once `lockTimeoutMs` has passed.
 */
export class IdempotencyStore {
  /** Keys this process holds locked right now (ids), so a forced shutdown can unlock them. */
  private readonly held = new Map<number, IdempotencyRecord>();

  constructor(
    private readonly sequelize: Sequelize,
    private readonly sql: Sql,
    private readonly options: { lockTimeoutMs: number; ttlHours: number },
  ) {}

  /** The common case (a new key) is one INSERT; only a key seen before is read and locked. */
  /**
   * `seen`: the caller's own INSERT of the key just found it taken (`newKeyCte`), so the INSERT is
   * skipped and the key is read and locked at once (if it has gone since, it is inserted after all).
   */
  async begin(req: BeginRequest, options: { seen?: boolean } = {}): Promise<BeginResult> {
    const result = await withTransaction(this.sequelize, async (t) => {
      const fresh = options.seen ? null : await this.insert(req, t);
      if (fresh) return fresh;
      return this.resume(req, t, options.seen);
    });
    if (result.kind === 'proceed') this.held.set(result.record.id, result.record);
    return result;
  }

  /**
   * Begins `pending` as `begin` does (a new key, or the resume of a key seen before): the record, or
   * `IdempotentReplay` for a finished key; 409/422 as `begin`.
   */
  async beginPending(pending: PendingKey, options: { seen?: boolean } = {}): Promise<IdempotencyRecord> {
    const result = await this.begin(pending.request, options);
    if (result.kind === 'replay') throw new IdempotentReplay(result.status, result.body);
    pending.record = result.record;
    return result.record;
  }

  /**
   * The INSERT of a new key as a data-modifying CTE body, already at `point` with its payment (`paymentId`,
   * a row the same statement inserts: the foreign key is checked at the end of the statement). It
   * returns `id, lock_token` when the key is new and nothing when it exists (the caller then falls
   * back to `beginPending`, which resumes, replays or refuses). Replacement names start with `ik`.
   */
  newKeyCte(pending: PendingKey, point: RecoveryPoint, paymentId: string): SqlPart {
    const r = pending.request;
    return {
      sql: `INSERT INTO idempotency_keys (user_id, idempotency_key, request_method, request_path, request_fingerprint, locked_at,
                                          recovery_point, payment_id)
            VALUES (:ikUser, :ikKey, :ikMethod, :ikPath, :ikFingerprint, now(), :ikPoint, :ikPayment)
            ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id, locked_at::text AS lock_token`,
      replacements: { ikUser: r.userId, ikKey: r.key, ikMethod: r.method, ikPath: r.path, ikFingerprint: r.fingerprint, ikPoint: point, ikPayment: paymentId },
    };
  }

  /** Records that `newKeyCte`'s statement committed the key (`row` is what it returned): the key is now held. */
  begunWith(pending: PendingKey, row: { id: string | number; lock_token: string }, point: RecoveryPoint, paymentId: string): IdempotencyRecord {
    const record: IdempotencyRecord = {
      id: Number(row.id),
      resumed: false,
      recoveryPoint: point,
      paymentId,
      resourceId: null,
      lockToken: row.lock_token,
    };
    pending.record = record;
    this.held.set(record.id, record);
    return record;
  }

  /**
   * `complete` as a data-modifying CTE body, for a caller that stores the answer in the statement that
   * finishes its work (one round trip, one commit). `gateSql` is an SQL condition (e.g. `EXISTS (SELECT
   * 1 FROM u)`): the answer is stored only if the work was done. Replacement names start with `ck`.
   */
  completeCte(record: IdempotencyRecord, status: number, text: string, gateSql = 'TRUE'): SqlPart {
    return {
      sql: `UPDATE idempotency_keys SET response_status = :ckStatus, response_body = :ckBody, recovery_point = 'finished',
                   locked_at = NULL, last_used_at = now() WHERE id = :ckKeyId AND ${gateSql}`,
      replacements: { ckStatus: status, ckBody: text, ckKeyId: record.id },
    };
  }

  /**
   * Begins `pending` as a new key inside the caller's transaction `t` (its first statement), so the key
   * commits with the work it guards: one commit instead of two. Null when the key exists (nothing
   * written: roll `t` back and `beginPending(pending, { seen: true })` to resume, replay or refuse).
   * The key counts as begun (`pending.record`, held) only once `t` commits.
   */
  async beginIn(pending: PendingKey, t: Transaction): Promise<IdempotencyRecord | null> {
    const fresh = await this.insert(pending.request, t);
    if (!fresh || fresh.kind !== 'proceed') return null;
    const record = fresh.record;
    t.afterCommit(() => {
      pending.record = record;
      this.held.set(record.id, record);
    });
    return record;
  }

  /**
   * Stores the final answer (`status`, `text` byte for byte) and unlocks the key inside the caller's
   * transaction `t`, the one that finishes the work: no separate commit for the answer. Once `t`
   * commits, the middleware sends `text` (`record.answered`) and does not complete again.
   */
  async completeIn(record: IdempotencyRecord, status: number, text: string, t: Transaction): Promise<void> {
    const complete = this.completeCte(record, status, text);
    await this.sql.exec(complete.sql, complete.replacements, t);
    t.afterCommit(() => this.completedWith(record, status, text));
  }

  /** Records that `completeCte`'s statement committed: the key is no longer held, and the middleware sends `text`. */
  completedWith(record: IdempotencyRecord, status: number, text: string): void {
    this.held.delete(record.id);
    record.answered = { status, text };
  }

  private async insert(req: BeginRequest, t: Transaction): Promise<BeginResult | null> {
    const [inserted] = await this.sql.returning<{ id: string; lock_token: string }>(
      `INSERT INTO idempotency_keys (user_id, idempotency_key, request_method, request_path, request_fingerprint, locked_at)
       VALUES (:userId, :key, :method, :path, :fingerprint, now())
       ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id, locked_at::text AS lock_token`,
      { ...req },
      t,
    );
    if (!inserted) return null;
    return {
      kind: 'proceed',
      record: { id: Number(inserted.id), resumed: false, recoveryPoint: 'started', paymentId: null, resourceId: null, lockToken: inserted.lock_token },
    };
  }

  private async resume(req: BeginRequest, t: Transaction, insertIfGone = false): Promise<BeginResult> {
    const row = await this.sql.one<KeyRow>(
      `SELECT *, locked_at < now() - make_interval(secs => :leaseSeconds) AS lock_expired,
              created_at < now() - make_interval(hours => :ttl) AS retention_over
         FROM idempotency_keys WHERE user_id = :userId AND idempotency_key = :key FOR UPDATE`,
      { userId: req.userId, key: req.key, leaseSeconds: this.options.lockTimeoutMs / 1000, ttl: this.options.ttlHours },
      t,
    );
    if (!row && insertIfGone) {
      const fresh = await this.insert(req, t);
      if (fresh) return fresh;
    }
    if (!row) throw new AppError('idempotency_request_in_progress', 'A request with this Idempotency-Key is in progress');
    if (row.retention_over) {
      // Past the retention window the key is new again, even before the purge job removes the row.
      await this.sql.exec(`DELETE FROM idempotency_keys WHERE id = :id`, { id: row.id }, t);
      return (await this.insert(req, t))!;
    }
    if (row.request_fingerprint !== req.fingerprint) {
      throw new AppError(
        'idempotency_key_reused',
        'This Idempotency-Key was used with a different request (method, path or body); use a new key',
      );
    }
    if (row.response_status !== null && row.response_body !== null) {
      await this.sql.exec(`UPDATE idempotency_keys SET last_used_at = now() WHERE id = :id`, { id: row.id }, t);
      return { kind: 'replay', status: row.response_status, body: row.response_body };
    }
    if (row.locked_at && !row.lock_expired) {
      throw new AppError('idempotency_request_in_progress', 'A request with this Idempotency-Key is still in progress; retry later');
    }
    const [locked] = await this.sql.returning<{ lock_token: string }>(
      `UPDATE idempotency_keys SET locked_at = now(), last_used_at = now() WHERE id = :id RETURNING locked_at::text AS lock_token`,
      { id: row.id },
      t,
    );
    return {
      kind: 'proceed',
      record: {
        id: Number(row.id),
        resumed: true,
        recoveryPoint: row.recovery_point,
        paymentId: row.payment_id,
        resourceId: row.resource_id,
        lockToken: locked.lock_token,
      },
    };
  }

  /**
   * The checkpoint of `checkpoint` as a data-modifying CTE, for a caller that writes its resource in
   * the same statement (one round trip, one commit). `paymentIdSql` is an SQL expression naming the
   * payment, e.g. `(SELECT id FROM p)` for a sibling CTE `p`; the caller calls `checkpointed` once the
   * statement has succeeded. Replacement names are prefixed `ck` so they cannot clash with the caller's.
   */
  checkpointCte(record: IdempotencyRecord, point: RecoveryPoint, paymentIdSql: string): { sql: string; replacements: Record<string, unknown> } {
    return {
      sql: `UPDATE idempotency_keys SET recovery_point = :ckPoint, payment_id = ${paymentIdSql}, resource_id = NULL WHERE id = :ckId`,
      replacements: { ckPoint: point, ckId: record.id },
    };
  }

  /** Records on `record` a checkpoint written by `checkpointCte`'s statement. */
  checkpointed(record: IdempotencyRecord, point: RecoveryPoint, paymentId: string): void {
    record.recoveryPoint = point;
    record.paymentId = paymentId;
    record.resourceId = null;
  }

  /** Records progress in the same transaction as the work it describes. */
  async checkpoint(
    record: IdempotencyRecord,
    point: RecoveryPoint,
    paymentId: string | null,
    t: Transaction,
    resourceId: string | null = null,
  ): Promise<void> {
    await this.sql.exec(
      `UPDATE idempotency_keys SET recovery_point = :point, payment_id = :paymentId, resource_id = :resourceId WHERE id = :id`,
      { id: record.id, point, paymentId, resourceId },
      t,
    );
    record.recoveryPoint = point;
    record.paymentId = paymentId;
    record.resourceId = resourceId;
  }

  /** Stores the final answer, byte for byte, and unlocks the key. */
  async complete(record: IdempotencyRecord, status: number, body: string): Promise<void> {
    this.held.delete(record.id);
    await this.sql.exec(
      `UPDATE idempotency_keys SET response_status = :status, response_body = :body, recovery_point = 'finished',
              locked_at = NULL, last_used_at = now() WHERE id = :id`,
      { id: record.id, status, body },
    );
  }

  /**
   * Unlocks without an answer: the outcome is unknown or retryable, and a retry resumes the work.
   * Tried a few times within about half a second, because the usual reason to release is a database
   * blip (a dropped connection) that the next pooled connection no longer sees; otherwise the key
   * would answer 409 until its lease runs out. Only our own lock is cleared (`lockToken`), so a retry
   * of the UPDATE can never unlock a later request's lock on the same key.
   */
  async release(record: IdempotencyRecord): Promise<void> {
    for (const delayMs of RELEASE_RETRY_DELAYS_MS) {
      try {
        await this.unlock([record]);
        this.held.delete(record.id);
        return;
      } catch (err) {
        if (delayMs === undefined) {
          // The lock lease frees it now; keeping it here would only grow with a long outage.
          this.held.delete(record.id);
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /**
   * Unlocks a key that `newKeyCte`'s statement may have committed although its caller saw only an
   * error (the connection died after the commit, before the answer): without this the key would
   * answer 409 until its lease ran out, while the database is back at once. Only that statement's
   * own lock matches: the payment id is this attempt's own, and `locked_at = created_at` holds only
   * until a resume locks the key again. Nothing matches when the statement did not commit. Retried
   * as `release`; throws when the database stays unavailable (the lease frees the key then).
   */
  async releaseUnacknowledged(pending: PendingKey, paymentId: string): Promise<void> {
    const { userId, key } = pending.request;
    for (const delayMs of RELEASE_RETRY_DELAYS_MS) {
      try {
        await this.sql.exec(
          `UPDATE idempotency_keys SET locked_at = NULL
            WHERE user_id = :userId AND idempotency_key = :key AND payment_id = :paymentId
              AND locked_at = created_at AND response_status IS NULL`,
          { userId, key, paymentId },
        );
        return;
      } catch (err) {
        if (delayMs === undefined) throw err;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private async unlock(records: IdempotencyRecord[]): Promise<number> {
    const rows = await this.sql.returning<{ id: string }>(
      `UPDATE idempotency_keys SET locked_at = NULL
        WHERE id IN (:ids) AND response_status IS NULL AND locked_at::text IN (:tokens) RETURNING id`,
      { ids: records.map((r) => r.id), tokens: records.map((r) => r.lockToken ?? '') },
    );
    return rows.length;
  }

  /**
   * Unlocks every key this process still holds without an answer; returns how many. For a shutdown
   * that must abandon requests in flight: their work resumes from its recovery point on the client's
   * retry (on any instance) instead of answering 409 until the lock lease runs out.
   */
  async releaseHeld(): Promise<number> {
    if (this.held.size === 0) return 0;
    const records = [...this.held.values()];
    this.held.clear();
    return this.unlock(records);
  }

  /** Deletes keys past the retention window; returns how many. */
  async purgeExpired(): Promise<number> {
    const rows = await this.sql.returning<{ id: string }>(
      `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :ttl) RETURNING id`,
      { ttl: this.options.ttlHours },
    );
    return rows.length;
  }
}
