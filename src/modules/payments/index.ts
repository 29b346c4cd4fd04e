export { createPaymentsModule, type PaymentsModule } from './payments.module';
export { PaymentRepository } from './payment.repository';
export { PaymentMover, type MoveResult } from './payment-mover';
export { applyIntent, statusFromIntent } from './apply-intent';
export { SyncPaymentUseCase } from './sync-payment.use-case';
export { serializePayment } from './payment.serializer';
export type { Payment } from './payment.model';
export { PAYMENT_STATUSES, canMove, type PaymentStatus, type MoveSource } from './payment-status';
export * as paymentSchemas from './payment.schemas';
