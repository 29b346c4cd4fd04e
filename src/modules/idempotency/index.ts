export {
  IdempotencyStore,
  IdempotentReplay,
  PendingKey,
  type IdempotencyRecord,
  type RecoveryPoint,
  type SqlPart,
} from './idempotency.store';
export { idempotent, idempotentOwnBegin, type HandlerResult, type IdempotentHandler, type OwnBeginHandler } from './idempotent.middleware';
export { canonicalJson, requestFingerprint } from './fingerprint';
