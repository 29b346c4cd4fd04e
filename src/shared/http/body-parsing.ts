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

const parser = express.json({ limit: JSON_BODY_LIMIT, strict: true });

/** express.json with its errors turned into the API's error codes. */
export const parseJson: RequestHandler = (req, res, next) => {
  parser(req, res, (err?: unknown) => {
    if (!err) return next();
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') return next(new AppError('body_too_large', `The body must be at most ${JSON_BODY_LIMIT}`));
    if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
      return next(new AppError('unsupported_media_type', 'Send the body as UTF-8 JSON'));
    }
    return next(new AppError('invalid_json', 'The body is not valid JSON'));
  });
};
