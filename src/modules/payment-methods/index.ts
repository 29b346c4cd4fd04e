export { createPaymentMethodsModule, type PaymentMethodsModule } from './payment-methods.module';
export { UserCustomers, customerIdempotencyKey } from './user-customers';
export { createSetupIntentSchema, listPaymentMethodsQuerySchema, PAYMENT_METHOD_ID } from './payment-method.schemas';
