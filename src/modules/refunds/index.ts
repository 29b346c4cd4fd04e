export { RefundRepository, COUNTED_REFUND_STATUSES, type Refund, type RefundStatus, type ProviderRefundFacts } from './refund.repository';
export { applyRefundTotal } from './apply-refund-total';
export { createRefundsModule, type RefundsModule } from './refunds.module';
export { createRefundSchema } from './refund.schemas';
export { serializeRefund } from './refund.serializer';
