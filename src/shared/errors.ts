/**
 * Domain errors carry a code, never an HTTP status. The one table below maps codes to statuses and
 * API error types; `toErrorResponse` is used by Express, the idempotency store and the jobs alike.
 */
import { DatabaseError as PgDatabaseError } from 'pg';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found'
  | 'idempotency_error'
  | 'conflict'
  | 'card_error'
  | 'rate_limit_error'
  | 'provider_error'
  | 'api_error';

const ERROR_TABLE = {
  parameter_invalid: { status: 400, type: 'invalid_request_error' },
  parameter_missing: { status: 400, type: 'invalid_request_error' },
  parameter_unknown: { status: 400, type: 'invalid_request_error' },
  amount_too_small: { status: 400, type: 'invalid_request_error' },
  amount_too_large: { status: 400, type: 'invalid_request_error' },
  currency_not_supported: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  route_not_found: { status: 404, type: 'not_found' },
  resource_missing: { status: 404, type: 'not_found' },
  token_missing: { status: 401, type: 'authentication_error' },
  token_invalid: { status: 401, type: 'authentication_error' },
  token_expired: { status: 401, type: 'authentication_error' },
  permission_denied: { status: 403, type: 'permission_error' },
  idempotency_key_invalid: { status: 400, type: 'invalid_request_error' },
  idempotency_key_reused: { status: 422, type: 'idempotency_error' },
  idempotency_request_in_progress: { status: 409, type: 'idempotency_error' },
  payment_unexpected_state: { status: 409, type: 'conflict' },
  order_payment_conflict: { status: 409, type: 'conflict' },
  order_already_paid: { status: 409, type: 'conflict' },
  webhook_event_not_replayable: { status: 409, type: 'conflict' },
  amount_exceeds_refundable: { status: 422, type: 'invalid_request_error' },
  payment_method_invalid: { status: 400, type: 'invalid_request_error' },
  card_declined: { status: 402, type: 'card_error' },
  authentication_required: { status: 402, type: 'card_error' },
  signature_invalid: { status: 400, type: 'invalid_request_error' },
  event_invalid: { status: 400, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  provider_rejected: { status: 502, type: 'provider_error' },
  provider_unavailable: { status: 503, type: 'provider_error' },
  provider_timeout: { status: 504, type: 'provider_error' },
  database_unavailable: { status: 503, type: 'api_error' },
  service_unavailable: { status: 503, type: 'api_error' },
  internal_error: { status: 500, type: 'api_error' },
  order_not_found: { status: 404, type: 'not_found' },
  order_not_payable: { status: 409, type: 'conflict' },
  amount_mismatch: { status: 422, type: 'invalid_request_error' },
  order_service_unavailable: { status: 503, type: 'api_error' },
  order_service_invalid_response: { status: 502, type: 'api_error' },
} as const satisfies Record<string, { status: number; type: ErrorType }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export interface AppErrorOptions {
  param?: string;
  /** Extra public fields for the error body, e.g. Stripe's `decline_code`. */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Seconds for the `Retry-After` header of a 503 (default 1). */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly param?: string;
  readonly details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.param = options.param;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }

  get type(): ErrorType {
    return ERROR_TABLE[this.code].type;
  }
}

export const notFound = (what: string, param = 'id') =>
  new AppError('resource_missing', `No such ${what}`, { param });

export interface ErrorBody {
  error: {
    type: ErrorType;
    code: ErrorCode;
    message: string;
    param?: string;
    request_id?: string;
    [extra: string]: unknown;
  };
}

// Sequelize's ConnectionError and every subclass: the pool could not get a working connection.
const CONNECTION_ERROR_NAMES = new Set([
  'SequelizeConnectionError',
  'SequelizeConnectionRefusedError',
  'SequelizeConnectionAcquireTimeoutError',
  'SequelizeConnectionTimedOutError',
  'SequelizeHostNotFoundError',
  'SequelizeHostNotReachableError',
  'SequelizeInvalidConnectionError',
  'SequelizeAccessDeniedError',
  'ConnectionError',
]);

// Node's socket errors: the connection to the server was refused, lost or never made.
const SOCKET_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) meaning the
 * session is gone or cannot be had, not that the statement was wrong: class 08 (connection
 * exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 57P05
 * idle_session_timeout, 25P03 idle_in_transaction_session_timeout, 53300 too_many_connections.
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1235]|25P03|53300)$/;

// node-postgres's own messages for a client whose connection died or never came (they carry no code).
const CONNECTION_LOST_MESSAGE =
  /Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Connection terminated|timeout exceeded when trying to connect|connection is insecure/i;

/**
 * True when `err` means the database could not be reached or the connection was lost (not that a
 * query was wrong): Sequelize's connection errors, node-postgres's "not queryable" / "Connection
 * terminated" family, and, inside a Sequelize error, a socket code or an SQLSTATE above (an SQLSTATE
 * also on node-postgres's own server error, which the pool throws unwrapped while connecting). Looks
 * through `original`/`parent`, `cause` and AggregateError's `errors`, where pg and Node nest the reason.
 * Socket codes count only under a Sequelize error, so an HTTP client's ECONNREFUSED is not called a
 * database outage.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const fromSequelize = err.name.startsWith('Sequelize');
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): boolean => {
    if (!(e instanceof Error) || depth > 4 || seen.has(e)) return false;
    seen.add(e);
    if (CONNECTION_ERROR_NAMES.has(e.name) || CONNECTION_LOST_MESSAGE.test(e.message)) return true;
    const code = (e as { code?: unknown }).code;
    if (fromSequelize && typeof code === 'string' && (SOCKET_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
    // The server's own error, unwrapped: the pool throws it as is when a connection dies while it is
    // set up (Sequelize's session SETs, our afterConnect hook), e.g. 57P01 from a failover.
    if (e instanceof PgDatabaseError && typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code)) return true;
    const nested = e as { original?: unknown; parent?: unknown; cause?: unknown; errors?: unknown };
    const inner = [nested.original, nested.parent, nested.cause, ...(Array.isArray(nested.errors) ? nested.errors : [])];
    return inner.some((i) => visit(i, depth + 1));
  };
  return visit(err, 0);
}

/** Normalises anything thrown into an AppError; unknown errors become a bare internal_error. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDatabaseUnavailable(err)) {
    return new AppError('database_unavailable', 'The database is unavailable; retry later', { cause: err });
  }
  return new AppError('internal_error', 'An internal error occurred', { cause: err });
}

export function toErrorResponse(err: AppError, requestId?: string): { status: number; body: ErrorBody } {
  return {
    status: err.status,
    body: {
      error: {
        type: err.type,
        code: err.code,
        message: err.message,
        ...(err.param ? { param: err.param } : {}),
        ...(err.details ?? {}),
        ...(requestId ? { request_id: requestId } : {}),
      },
    },
  };
}
