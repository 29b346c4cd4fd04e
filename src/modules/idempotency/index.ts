export { IdempotencyStore, type IdempotencyRecord, type RecoveryPoint } from './idempotency.store';
export { idempotent, type HandlerResult, type IdempotentHandler } from './idempotent.middleware';
export { canonicalJson, requestFingerprint } from './fingerprint';
