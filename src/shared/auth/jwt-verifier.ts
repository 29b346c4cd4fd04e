import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm, type GetPublicKeyOrSecret, type JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import type { Config } from '../config';
import { AppError } from '../errors';

/** Who is calling: the JWT's `sub` and `role`. */
export interface Principal {
  userId: string;
  role: 'customer' | 'admin';
}

const ASYMMETRIC: Algorithm[] = ['RS256', 'ES256'];
const MAX_SUBJECT_LENGTH = 255;

/**
 * Verifies bearer tokens with a pinned algorithm list: HS256 with JWT_SECRET, or RS256/ES256 with
 * JWT_PUBLIC_KEY or JWT_JWKS_URL. `alg: none` and every other algorithm are refused, and `exp` is required.
 */
export class JwtVerifier {
  private readonly key: KeyObject | GetPublicKeyOrSecret;
  private readonly algorithms: Algorithm[];

  constructor(private readonly jwtConfig: Config['jwt']) {
    if (jwtConfig.jwksUrl) {
      const client = new JwksClient({ jwksUri: jwtConfig.jwksUrl, cache: true, rateLimit: true, timeout: 5000 });
      this.key = (header, callback) => {
        client
          .getSigningKey(header.kid)
          .then((k) => callback(null, k.getPublicKey()))
          .catch((err: Error) => callback(err));
      };
      this.algorithms = ASYMMETRIC;
    } else if (jwtConfig.publicKey) {
      // Built once: given a string, jsonwebtoken parses it into a KeyObject on every verify.
      this.key = createPublicKey(jwtConfig.publicKey);
      this.algorithms = ASYMMETRIC;
    } else if (jwtConfig.secret) {
      // Built once: given a string, jsonwebtoken first tries (and fails) to parse it as a public key,
      // then builds a secret key, on every verify.
      this.key = createSecretKey(Buffer.from(jwtConfig.secret, 'utf8'));
      this.algorithms = ['HS256'];
    } else {
      throw new Error('No JWT key configured');
    }
  }

  async verify(token: string): Promise<Principal> {
    const payload = await new Promise<JwtPayload>((resolve, reject) => {
      jwt.verify(
        token,
        this.key,
        {
          algorithms: this.algorithms,
          issuer: this.jwtConfig.issuer,
          audience: this.jwtConfig.audience,
          clockTolerance: 5,
        },
        (err, decoded) => (err ? reject(err) : resolve(decoded as JwtPayload)),
      );
    }).catch((err: Error) => {
      if (err.name === 'TokenExpiredError') throw new AppError('token_expired', 'The token has expired');
      throw new AppError('token_invalid', 'The token is invalid');
    });

    if (typeof payload.exp !== 'number') throw new AppError('token_invalid', 'The token must carry an exp claim');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > MAX_SUBJECT_LENGTH) {
      throw new AppError('token_invalid', 'The token must carry a sub claim');
    }
    const role = payload.role ?? 'customer';
    if (role !== 'customer' && role !== 'admin') throw new AppError('token_invalid', 'The token role must be customer or admin');
    return { userId: payload.sub, role };
  }
}

/** Mints an HS256 development token (scripts/token.ts and the tests). */
export function signDevToken(secret: string, claims: { sub: string; role: Principal['role'] }, expiresInSeconds = 3600): string {
  return jwt.sign({ role: claims.role }, secret, { algorithm: 'HS256', subject: claims.sub, expiresIn: expiresInSeconds });
}
