/**
 * The Content-Security-Policy of the checkout page and the mock's 3-D Secure page: only our own
 * origin, plus Stripe's origins when Stripe.js is on. Stripe's list:
 * https://docs.stripe.com/security/guide#content-security-policy
 */
export function checkoutCsp(options: { stripe: boolean; framedBy?: 'none' | 'self' }): string {
  const stripe = options.stripe;
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'", ...(stripe ? ['https://js.stripe.com', 'https://*.js.stripe.com'] : [])],
    'style-src': ["'self'", ...(stripe ? ["'unsafe-inline'"] : [])],
    'img-src': ["'self'", 'data:', ...(stripe ? ['https://*.stripe.com'] : [])],
    'connect-src': ["'self'", ...(stripe ? ['https://api.stripe.com'] : [])],
    'frame-src': ["'self'", ...(stripe ? ['https://js.stripe.com', 'https://*.js.stripe.com', 'https://hooks.stripe.com', 'https://*.stripe.com'] : [])],
    'form-action': ["'self'"],
    'frame-ancestors': [options.framedBy === 'self' ? "'self'" : "'none'"],
    'base-uri': ["'none'"],
    'object-src': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}
