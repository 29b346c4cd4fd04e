import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { signDevToken } from '../../shared/auth/jwt-verifier';

/** A demo token lasts a working day: long enough to come back and pay with a saved card. */
export const DEMO_TOKEN_TTL_SECONDS = 12 * 3600;

/**
 * POST /v1/test/checkout-token, development only (never mounted with NODE_ENV=production, like
 * /v1/test/simulate): a customer token for a new demo user, so the checkout page works with no setup.
 * Each call is a new user (`demo_...`); the page keeps its token to come back as the same user.
 */
export function demoTokenRouter(jwtSecret: string): Router {
  const router = Router();
  router.post('/checkout-token', (_req, res) => {
    const userId = `demo_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
    const token = signDevToken(jwtSecret, { sub: userId, role: 'customer' }, DEMO_TOKEN_TTL_SECONDS);
    res.status(201).json({
      object: 'checkout_token',
      token,
      user_id: userId,
      expires_at: new Date(Date.now() + DEMO_TOKEN_TTL_SECONDS * 1000).toISOString(),
    });
  });
  return router;
}
