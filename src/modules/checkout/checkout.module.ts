import { Router } from 'express';
import { MockProvider } from '../../providers/mock/mock-provider';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Config } from '../../shared/config';
import { checkoutPageRouter } from './checkout.routes';
import { demoTokenRouter } from './demo-token.routes';
import { mock3dsRouter } from './mock-3ds.routes';

export interface CheckoutModule {
  /** GET /checkout and its assets, and the mock's 3-D Secure page; empty when the page is off. */
  router: Router;
  /** POST /v1/test/checkout-token; absent in production (and without a JWT secret to sign with). */
  demoTokenRouter?: Router;
}

/**
 * The demo checkout page. On outside production (off in production unless CHECKOUT_PAGE_ENABLED),
 * the demo token route only outside production, the mock 3-D Secure page only with the mock.
 */
export function createCheckoutModule(deps: { config: Readonly<Config>; provider: PaymentProvider }): CheckoutModule {
  const { config, provider } = deps;
  const demoTokens = !config.isProduction && Boolean(config.jwt.secret);
  const router = Router();
  if (config.checkoutPageEnabled) router.use(checkoutPageRouter(config, demoTokens));
  if (provider instanceof MockProvider && !config.isProduction) router.use(mock3dsRouter(provider));
  return { router, demoTokenRouter: demoTokens ? demoTokenRouter(config.jwt.secret!) : undefined };
}
