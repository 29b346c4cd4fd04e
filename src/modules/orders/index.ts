export { OrderServiceClient, type OrderLookup } from './order-service.client';
export { orderSchema, ORDER_STATUSES, type Order } from './order.schemas';
