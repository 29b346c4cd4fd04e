export { IdempotencyStore, type IdempotencyRecord, type RecoveryPoint } from './idempotency.store';
export { IdempotentReplay, PendingKey, type SqlPart } from './pending-key';
export { idempotent, idempotentOwnBegin, type HandlerResult, type IdempotentHandler, type OwnBeginHandler } from './idempotent.middleware';
export { canonicalJson, requestFingerprint } from './fingerprint';
