export { createCheckoutModule, type CheckoutModule } from './checkout.module';
