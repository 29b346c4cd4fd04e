import { timingSafeEqual } from 'node:crypto';
import express, { Router, type Response } from 'express';
import { MOCK_3DS_PATH, type AuthenticationOutcome } from '../../providers/mock/mock-checkout';
import type { MockProvider } from '../../providers/mock/mock-provider';
import { ProviderRejectedError } from '../../providers/payment-provider';
import { formatMinor } from '../../shared/money';
import { checkoutCsp } from './checkout-csp';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const sameSecret = (a: string, b: string | null) =>
  b !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .set('Content-Security-Policy', checkoutCsp({ stripe: false, framedBy: 'self' }))
    .set('Cache-Control', 'no-store')
    .set('Referrer-Policy', 'no-referrer')
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/checkout/assets/checkout.css"></head>` +
        `<body class="acs"><main class="acs-card"><p class="acs-brand">Mock 3-D Secure</p>${body}</main></body></html>`,
    );
}

/**
 * The mock provider's 3-D Secure page, as Stripe's test page: `GET /mock/3ds/:payment_intent?client_secret=...`
 * shows the payment and two buttons; the answer (`POST`, form fields `client_secret` and `outcome` =
 * `complete` | `fail`) makes the mock emit the signed events Stripe would, through the webhook
 * pipeline, which settles the payment. The intent's client secret proves the caller is its payer
 * (404 otherwise, as for an unknown intent). Mounted only with the mock provider, never in production.
 */
export function mock3dsRouter(mock: MockProvider): Router {
  const router = Router();

  const intentFor = async (id: string, clientSecret: unknown) => {
    // `has` reads the mock's tables (async): without the await an unknown id went on to a 500.
    if (typeof clientSecret !== 'string' || !(await mock.has(id))) return null;
    const intent = await mock.retrievePaymentIntent(id);
    return sameSecret(clientSecret, intent.clientSecret) ? intent : null;
  };
  const notFound = (res: Response) => page(res, 404, 'Not found', '<h1>No such authentication</h1><p>This link is not valid.</p>');

  router.get(`${MOCK_3DS_PATH}/:id`, async (req, res) => {
    const intent = await intentFor(String(req.params.id), req.query.client_secret);
    if (!intent) return notFound(res);
    if (intent.status !== 'requires_action') {
      return page(res, 409, 'Authentication done', '<h1>Nothing to authenticate</h1><p>This payment no longer needs authentication.</p>');
    }
    const id = escapeHtml(intent.id);
    page(
      res,
      200,
      'Authenticate your payment',
      `<h1>Authenticate your payment</h1>` +
        `<p>Your bank asks you to confirm a payment of <strong>${escapeHtml(formatMinor(intent.amount, intent.currency).toUpperCase())}</strong>.</p>` +
        `<p class="acs-note">This is a test page of the mock provider, like Stripe's test 3-D Secure page. Choose what your bank would answer.</p>` +
        `<form method="post" action="${MOCK_3DS_PATH}/${id}" class="acs-actions">` +
        `<input type="hidden" name="client_secret" value="${escapeHtml(String(req.query.client_secret))}">` +
        `<button type="submit" name="outcome" value="complete" class="button primary">Complete</button>` +
        `<button type="submit" name="outcome" value="fail" class="button secondary">Fail</button>` +
        `</form>`,
    );
  });

  router.post(`${MOCK_3DS_PATH}/:id`, express.urlencoded({ extended: false, limit: '2kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const intent = await intentFor(String(req.params.id), body.client_secret);
    if (!intent) return notFound(res);
    if (body.outcome !== 'complete' && body.outcome !== 'fail') {
      return page(res, 400, 'Bad answer', '<h1>Choose Complete or Fail</h1>');
    }
    try {
      await mock.completeAuthentication(intent.id, body.outcome as AuthenticationOutcome);
    } catch (err) {
      if (!(err instanceof ProviderRejectedError)) throw err;
      return page(res, 409, 'Authentication done', '<h1>Nothing to authenticate</h1><p>This payment no longer needs authentication.</p>');
    }
    const done = body.outcome === 'complete' ? 'Authentication complete' : 'Authentication failed';
    page(res, 200, done, `<h1>${done}</h1><p>You can return to the checkout; it shows the result in a moment.</p>`);
  });

  return router;
}
