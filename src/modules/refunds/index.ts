export { RefundRepository, COUNTED_REFUND_STATUSES, type Refund, type RefundStatus, type ProviderRefundFacts } from './refund.repository';
export { applyRefundTotal } from './apply-refund-total';
export { refundsRouter } from './refunds.routes';
export { serializeRefund } from './refund.serializer';
