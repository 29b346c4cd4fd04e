import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { startService, type ServiceProcess } from '../../bench/lib/service-process';
import { FakeStripe } from '../helpers/fake-stripe';
import { paymentIntentEvent, serialize, signed } from '../helpers/stripe-events';
import { launchBrowser, newPage, pageLog, pageToken, paymentsOf, screenshot, statusShowing, type BrowserSession } from './browser-helpers';

const WEBHOOK_SECRET = 'whsec_browser_checkout_test';
const PUBLISHABLE_KEY = 'pk_test_checkout_browser';

/**
 * A stand-in for Stripe.js, answered for every request to js.stripe.com: it records each call (through
 * a function the test exposes) and, like Stripe.js after a redirect-based confirmation, sends the
 * browser to the return_url with Stripe's query parameters.
 */
const STRIPE_JS_STAND_IN = `
(() => {
  const record = (name, args) => window.recordStripeCall(name, JSON.stringify(args));
  window.Stripe = function (key) {
    record('Stripe', { key });
    let clientSecret = null;
    return {
      elements(options) {
        clientSecret = options.clientSecret;
        record('elements', options);
        return {
          create(type) {
            record('create', { type });
            return {
              mount(selector) {
                record('mount', { selector });
                const box = document.createElement('div');
                box.className = 'stand-in';
                box.textContent = 'Card details (Stripe.js stand-in)';
                document.querySelector(selector).append(box);
              },
            };
          },
        };
      },
      async confirmPayment(options) {
        record('confirmPayment', { clientSecret, return_url: options.confirmParams.return_url, same_elements: options.elements !== undefined });
        const url = new URL(options.confirmParams.return_url);
        url.searchParams.set('payment_intent', clientSecret.split('_secret_')[0]);
        url.searchParams.set('payment_intent_client_secret', clientSecret);
        url.searchParams.set('redirect_status', 'succeeded');
        window.location.assign(url.toString());
        return new Promise(() => {});
      },
      async handleNextAction(options) {
        record('handleNextAction', options);
        return {};
      },
    };
  };
})();
`;

describe('the checkout page in a browser (Stripe provider, Stripe.js stood in)', function () {
  let fakeStripe: FakeStripe;
  let service: ServiceProcess;
  let session: BrowserSession;

  before(async function () {
    this.timeout(240_000);
    fakeStripe = await new FakeStripe().start();
    service = await startService({
      jwtSecret: randomBytes(32).toString('hex'),
      env: {
        PAYMENT_PROVIDER: 'stripe',
        STRIPE_SECRET_KEY: 'sk_test_fake',
        STRIPE_API_URL: fakeStripe.url,
        STRIPE_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_MAX_NETWORK_RETRIES: '0',
      },
    });
    session = await launchBrowser();
  });
  after(async () => {
    await session?.close();
    await service?.stop();
    await fakeStripe?.stop();
  });

  it('when a person pays, then the page loads Stripe.js, mounts the Payment Element with the payment’s client secret, confirms with it, and shows the status the webhook settles', async () => {
    const { context, page } = await newPage(session);
    try {
      const calls: Array<{ name: string; args: Record<string, unknown> }> = [];
      const stripeJsRequests: string[] = [];
      await context.exposeFunction('recordStripeCall', (name: string, args: string) => calls.push({ name, args: JSON.parse(args) }));
      await context.route('https://js.stripe.com/**', (route) => {
        stripeJsRequests.push(route.request().url());
        return route.fulfill({ status: 200, contentType: 'application/javascript', body: STRIPE_JS_STAND_IN });
      });
      const called = (name: string) => calls.filter((c) => c.name === name);
      const until = async (what: () => boolean, label: string) => {
        for (let i = 0; i < 600 && !what(); i += 1) await page.waitForTimeout(200);
        expect(what(), `${label}\n--- page ---\n${pageLog(page).join('\n')}\n--- service ---\n${service.output().join('\n')}`).to.equal(true);
      };

      await page.goto(`${service.url}/checkout`);
      await page.getByRole('button', { name: 'Continue to card details' }).click();
      await until(() => called('mount').length === 1, 'the Payment Element mounted');
      await page.getByRole('group', { name: 'Card details' }).getByText('Stripe.js stand-in').waitFor();
      await screenshot(page, 'stripe-payment-element');

      const [payment] = await paymentsOf(service.url, await pageToken(page));
      const secret = await clientSecretOf(page, service.url, payment.id);
      expect(stripeJsRequests[0]).to.match(/^https:\/\/js\.stripe\.com\//);
      expect(called('Stripe')[0].args).to.deep.equal({ key: PUBLISHABLE_KEY });
      expect(called('elements')[0].args).to.deep.equal({ clientSecret: secret });
      expect(called('create')[0].args).to.deep.equal({ type: 'payment' });
      expect(secret.startsWith(`${payment.provider_payment_id}_secret_`)).to.equal(true);

      await page.getByRole('button', { name: 'Pay' }).click();
      await until(() => called('confirmPayment').length === 1, 'confirmPayment called');
      const confirm = called('confirmPayment')[0].args;
      expect(confirm).to.include({ clientSecret: secret, same_elements: true });
      expect(confirm.return_url).to.equal(`${service.url}/checkout?payment_id=${payment.id}`);

      // Back on the page from the redirect: it waits for the webhook, which Stripe sends once the bank answered.
      await statusShowing(page, 'pending');
      fakeStripe.setStatus(payment.provider_payment_id, 'succeeded');
      const event = serialize(paymentIntentEvent('payment_intent.succeeded', { intentId: payment.provider_payment_id, paymentId: payment.id, status: 'succeeded' }));
      const delivered = await fetch(`${service.url}/v1/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signed(event, WEBHOOK_SECRET) },
        body: event,
      });
      expect(delivered.status).to.equal(200);

      await statusShowing(page, 'succeeded');
      await screenshot(page, 'stripe-succeeded');
      const after = await paymentsOf(service.url, await pageToken(page));
      expect(after.map((p) => [p.id, p.status])).to.deep.equal([[payment.id, 'succeeded']]);
      expect(fakeStripe.callsTo('POST', /^\/v1\/payment_intents$/)).to.have.length(1);
    } finally {
      await context.close();
    }
  });
});

async function clientSecretOf(page: Page, baseUrl: string, paymentId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/payments/${paymentId}`, { headers: { authorization: `Bearer ${await pageToken(page)}` } });
  return ((await res.json()) as { client_secret: string }).client_secret;
}
