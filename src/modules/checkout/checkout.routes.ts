import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import type { Config } from '../../shared/config';
import { currencyRule, SUPPORTED_CURRENCIES } from '../../shared/money';
import { checkoutCsp } from './checkout-csp';

// Next to this file in the source tree and in dist/ (the Dockerfile copies it there).
const PUBLIC_DIR = path.join(__dirname, 'public');

/** What the page needs to know about the service: which provider, Stripe's publishable key, where a demo token comes from. */
export interface CheckoutPageConfig {
  provider: 'stripe' | 'mock';
  /** Null with the mock: Stripe.js has nothing to talk to. */
  publishable_key: string | null;
  /** Outside production only: POST here for a customer token of a demo user. */
  demo_token_url: string | null;
  /** Digits after the decimal point per supported currency, so the page turns "20.00" into 2000 without floats. */
  currency_exponents: Record<string, number>;
}

/**
 * GET /checkout (the page), /checkout/assets/* (its script and styles) and /checkout/config.json.
 * Served with the page's own Content-Security-Policy; no build step, no framework.
 */
export function checkoutPageRouter(config: Pick<Config, 'provider' | 'stripe'>, demoTokens: boolean): Router {
  if (!existsSync(path.join(PUBLIC_DIR, 'index.html'))) throw new Error(`checkout page assets missing in ${PUBLIC_DIR}`);
  const stripeOn = config.provider === 'stripe' && Boolean(config.stripe.publishableKey);
  const pageConfig: CheckoutPageConfig = {
    provider: stripeOn ? 'stripe' : 'mock',
    publishable_key: stripeOn ? config.stripe.publishableKey! : null,
    demo_token_url: demoTokens ? '/v1/test/checkout-token' : null,
    currency_exponents: Object.fromEntries(SUPPORTED_CURRENCIES.map((c) => [c, currencyRule(c)!.exponent])),
  };
  const csp = checkoutCsp({ stripe: stripeOn });

  const router = Router();
  router.use('/checkout', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    // The token and the client secret pass through this page: nothing of it is cached or leaked in a Referer.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  router.get('/checkout', (_req, res) => {
    res.sendFile(path.join(PUBLIC_DIR, 'index.html'));
  });
  router.get('/checkout/config.json', (_req, res) => {
    res.json(pageConfig);
  });
  router.use('/checkout/assets', express.static(path.join(PUBLIC_DIR, 'assets'), { index: false, fallthrough: true }));
  return router;
}
