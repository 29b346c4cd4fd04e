import type { RequestHandler } from 'express';
import { AppError } from '../errors';
import type { JwtVerifier } from './jwt-verifier';

/** Requires `Authorization: Bearer <JWT>` and sets `req.auth`. */
export function authenticate(verifier: JwtVerifier): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('Authorization');
    const match = header?.match(/^Bearer\s+([A-Za-z0-9_\-.=]+)$/i);
    if (!match) {
      throw new AppError('token_missing', 'Send a bearer token: Authorization: Bearer <JWT>');
    }
    req.auth = await verifier.verify(match[1]);
    next();
  };
}

/** For admin-only routes; must come after `authenticate`. */
export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (req.auth?.role !== 'admin') throw new AppError('permission_denied', 'This endpoint is for admins');
  next();
};
