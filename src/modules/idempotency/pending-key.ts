import type { BeginRequest, IdempotencyRecord } from './idempotency.store';

/** A data-modifying statement (or CTE body) and its replacements, for a caller to fold into its own statement. */
export interface SqlPart {
  sql: string;
  replacements: Record<string, unknown>;
}

/**
 * A request's Idempotency-Key that the handler begins itself (see `idempotentOwnBegin`), so the key
 * can be written by the handler's own first statement: `record` is set once it is begun.
 */
export class PendingKey {
  record?: IdempotencyRecord;
  constructor(readonly request: BeginRequest) {}
}

/**
 * Thrown by `IdempotencyStore.beginPending` when the key already holds a finished answer: the
 * middleware sends `body` as is (status, text), and the handler stops there.
 */
export class IdempotentReplay extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super('idempotent replay');
  }
}
