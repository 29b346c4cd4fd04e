import express, { type RequestHandler } from 'express';
import { AppError } from '../errors';

/** JSON bodies up to this size; payment requests are small, and a bound keeps parsing cheap. */
export const JSON_BODY_LIMIT = '100kb';

const hasBody = (req: Parameters<RequestHandler>[0]) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** 415 for a body that is not JSON, before anything reads it. */
export const requireJsonContentType: RequestHandler = (req, _res, next) => {
  if (hasBody(req) && !req.is('application/json')) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json', { param: 'Content-Type' });
  }
  next();
};

/** Wraps a body-parser middleware so its errors leave as the API's error codes. */
function withApiErrors(parser: RequestHandler, limit: string): RequestHandler {
  return (req, res, next) => {
    parser(req, res, (err?: unknown) => {
      if (!err) return next();
      const type = (err as { type?: string }).type;
      // body-parser refuses an oversized Content-Length before reading a byte of it.
      if (type === 'entity.too.large') return next(new AppError('body_too_large', `The body must be at most ${limit}`));
      if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
        return next(new AppError('unsupported_media_type', 'Send the body as UTF-8 JSON'));
      }
      if (type === 'request.aborted') return next(new AppError('invalid_json', 'The request body was not received in full'));
      return next(new AppError('invalid_json', 'The body is not valid JSON'));
    });
  };
}

/** express.json with the API's limit and error codes. */
export const parseJson = withApiErrors(express.json({ limit: JSON_BODY_LIMIT, strict: true }), JSON_BODY_LIMIT);

/** Stripe events can be large (expanded objects) but 1 MB bounds the HMAC work per request. */
export const WEBHOOK_BODY_LIMIT = '1mb';

/** The raw bytes, untouched: Stripe signs the exact body, so nothing may parse it first. */
export const rawBody = withApiErrors(express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), WEBHOOK_BODY_LIMIT);
