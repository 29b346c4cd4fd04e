import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { signDevToken } from '../../src/shared/auth/jwt-verifier';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export const newUserId = () => `u_${randomBytes(6).toString('hex')}`;

export function tokenFor(userId: string, role: 'customer' | 'admin' = 'customer', secret = TEST_JWT_SECRET): string {
  return signDevToken(secret, { sub: userId, role });
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function expiredToken(userId: string): string {
  return jwt.sign({ role: 'customer', sub: userId, exp: Math.floor(Date.now() / 1000) - 60 }, TEST_JWT_SECRET, { algorithm: 'HS256' });
}

/** `alg: none`: a header and payload with an empty signature. */
export function unsignedToken(userId: string, role = 'admin'): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: userId, role, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
}
