import type { Request, RequestHandler } from 'express';
import { AppError, toAppError, toErrorResponse } from '../../shared/errors';
import { logger } from '../../shared/logger';
import { requestFingerprint } from './fingerprint';
import type { IdempotencyRecord, IdempotencyStore } from './idempotency.store';

export interface HandlerResult {
  status: number;
  body: unknown;
}

export type IdempotentHandler = (req: Request, idempotency?: IdempotencyRecord) => Promise<HandlerResult>;

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
    const key = req.get('Idempotency-Key');
    if (key === undefined) {
      const result = await handler(req);
      res.status(result.status).json(result.body);
      return;
    }
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || !PRINTABLE_ASCII.test(key)) {
      throw new AppError('idempotency_key_invalid', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`, {
        param: 'Idempotency-Key',
      });
    }
    const path = req.originalUrl.split('?')[0];
    const begin = await store.begin({
      userId: req.auth!.userId,
      key,
      method: req.method,
      path,
      fingerprint: requestFingerprint(req.method, path, req.body),
    });
    if (begin.kind === 'replay') {
      res.status(begin.status).set('Idempotent-Replayed', 'true').type('application/json').send(begin.body);
      return;
    }

    const record = begin.record;
    let status: number;
    let text: string;
    try {
      const result = await handler(req, record);
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
  };
}
