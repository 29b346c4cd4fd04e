import type { Request, RequestHandler, Response } from 'express';
import { AppError, toAppError, toErrorResponse } from '../../shared/errors';
import { logger } from '../../shared/logger';
import { requestFingerprint } from './fingerprint';
import type { BeginRequest, IdempotencyRecord, IdempotencyStore } from './idempotency.store';
import { IdempotentReplay, PendingKey } from './pending-key';

export interface HandlerResult {
  status: number;
  body: unknown;
}

export type IdempotentHandler = (req: Request, idempotency?: IdempotencyRecord) => Promise<HandlerResult>;

/**
 * A handler that begins the key itself (`IdempotencyStore.beginPending`, or `newKeyCte` in its own first
 * statement). Either kind of handler may store its answer in its own last statement (`completeCte` +
 * `completedWith`, which sets `record.answered`): the middleware then sends that text and does not complete.
 */
export type OwnBeginHandler = (req: Request, key?: PendingKey) => Promise<HandlerResult>;

const MAX_KEY_LENGTH = 255;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

// Outcomes worth retrying are not stored: the retry must be allowed to finish the work.
const RETRYABLE_STATUSES = new Set([500, 502, 503, 504]);

/**
 * Runs `handler` under the request's Idempotency-Key (if any): replays a finished request's exact
 * status and body, refuses a reused key with another body (422) or a key still running (409), and
 * stores final answers, declines included. Validation runs before this, so bad input is never stored.
 */
export function idempotent(store: IdempotencyStore, handler: IdempotentHandler): RequestHandler {
  return async (req, res) => {
    const request = beginRequestOf(req);
    if (!request) {
      const result = await handler(req);
      res.status(result.status).json(result.body);
      return;
    }
    const begin = await store.begin(request);
    if (begin.kind === 'replay') return sendReplay(res, begin.status, begin.body);
    await finish(store, req, res, begin.record, () => handler(req, begin.record));
  };
}

/**
 * `idempotent` for a handler that begins the key itself, so the key can be written by the handler's
 * first statement (a create's key, payment and recovery point in one autocommit statement) and the
 * answer stored by its last. Same guarantees: a finished key replays its exact text, a running one
 * is 409, another body 422, retryable failures release the key, final ones are stored. A handler that
 * fails before beginning leaves nothing written: the key is then begun here and the failure stored
 * (or the key's earlier answer replayed), as if it had been begun first.
 */
export function idempotentOwnBegin(store: IdempotencyStore, handler: OwnBeginHandler): RequestHandler {
  return async (req, res) => {
    const request = beginRequestOf(req);
    if (!request) {
      const result = await handler(req);
      res.status(result.status).json(result.body);
      return;
    }
    const pending = new PendingKey(request);
    let outcome: { result: HandlerResult } | { error: unknown };
    try {
      outcome = { result: await handler(req, pending) };
    } catch (err) {
      if (err instanceof IdempotentReplay) return sendReplay(res, err.status, err.body);
      outcome = { error: err };
    }
    let record = pending.record;
    if (!record) {
      // Nothing was written under the key: a retryable failure is only answered, anything else is
      // begun now so it is stored (or the key's own answer wins, as it would have if begun first).
      if ('error' in outcome && (RETRYABLE_STATUSES.has(toAppError(outcome.error).status) || isKeyRefusal(outcome.error))) throw outcome.error;
      const begin = await store.begin(request);
      if (begin.kind === 'replay') return sendReplay(res, begin.status, begin.body);
      record = begin.record;
    }
    await finish(store, req, res, record, async () => {
      if ('error' in outcome) throw outcome.error;
      return outcome.result;
    });
  };
}

/** The key's identity for `begin`, or null without an Idempotency-Key; 400 for a malformed key. */
function beginRequestOf(req: Request): BeginRequest | null {
  const key = req.get('Idempotency-Key');
  if (key === undefined) return null;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !PRINTABLE_ASCII.test(key)) {
    throw new AppError('idempotency_key_invalid', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`, {
      param: 'Idempotency-Key',
    });
  }
  const path = req.originalUrl.split('?')[0];
  return { userId: req.auth!.userId, key, method: req.method, path, fingerprint: requestFingerprint(req.method, path, req.body) };
}

// The key's own refusals (409 in flight, 422 reused) are answers about the key, never stored under it.
const isKeyRefusal = (err: unknown): boolean => err instanceof AppError && err.code.startsWith('idempotency_');

function sendReplay(res: Response, status: number, body: string): void {
  res.status(status).set('Idempotent-Replayed', 'true').type('application/json').send(body);
}

/** Runs the handler under a begun key: stores a final answer (declines included), releases on a retryable one. */
async function finish(store: IdempotencyStore, req: Request, res: Response, record: IdempotencyRecord, run: () => Promise<HandlerResult>): Promise<void> {
  let status: number;
  let text: string;
  try {
    const result = await run();
    if (record.answered) {
      // The handler's own last statement stored the answer (and unlocked the key): send exactly that.
      res.status(record.answered.status).type('application/json').send(record.answered.text);
      return;
    }
    status = result.status;
    text = JSON.stringify(result.body);
  } catch (err) {
    const appError = toAppError(err);
    if (RETRYABLE_STATUSES.has(appError.status)) {
      await store.release(record).catch((releaseError) => logger.warn('idempotency key not released', { err: releaseError }));
      throw err;
    }
    const response = toErrorResponse(appError, req.id);
    status = response.status;
    text = JSON.stringify(response.body);
  }
  await store.complete(record, status, text);
  res.status(status).type('application/json').send(text);
}
