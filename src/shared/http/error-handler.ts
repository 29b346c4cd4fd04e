import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toAppError, toErrorResponse } from '../errors';
import { logger } from '../logger';

/** Logs an error once, at the level it deserves; unknown errors with their stack. */
export function reportError(err: unknown, context: Record<string, unknown> = {}): AppError {
  const appError = toAppError(err);
  if (appError.status >= 500) {
    const cause = appError.code === 'internal_error' ? err : (appError.cause ?? err);
    logger.error(appError.message, { ...context, code: appError.code, err: cause });
  }
  return appError;
}

export const routeNotFound: RequestHandler = (req) => {
  throw new AppError('route_not_found', `Unrecognized request URL (${req.method} ${req.path})`);
};

/** The one Express error handler: every error leaves in the API.md shape. */
export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const appError = reportError(err, { method: req.method, path: req.path });
  const { status, body } = toErrorResponse(appError, req.id);
  if (appError.code === 'database_unavailable' || appError.code === 'provider_unavailable') res.set('Retry-After', '1');
  // Every 503 is retryable (API.md): say when, not only for the codes listed above.
  else if (status === 503) res.set('Retry-After', String(appError.retryAfterSeconds ?? 1));
  res.status(status).json(body);
};
