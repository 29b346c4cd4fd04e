import type { Principal } from '../auth/jwt-verifier';

declare global {
  namespace Express {
    interface Request {
      /** The request id: the client's X-Request-Id if sane, else generated. */
      id: string;
      /** Set by `authenticate`. */
      auth?: Principal;
      /** The validated, typed input set by `validate`. */
      validated?: { body?: unknown; query?: unknown; params?: unknown };
    }
  }
}

export {};
