import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { startService, type ServiceProcess } from '../../bench/lib/service-process';
import { historyOf, launchBrowser, newPage, pageLog, pageToken, paymentsOf, screenshot, statusShowing, type BrowserSession } from './browser-helpers';

/**
 * The checkout page in Debian's Chromium, against the service started as `npm start` starts it
 * (child process, embedded database, mock provider, webhook worker running). A person's clicks, and
 * the API (the database) afterwards.
 */
describe('the checkout page in a browser (mock provider)', function () {
  let service: ServiceProcess;
  let session: BrowserSession;
  let page: Page;
  let closeContext: () => Promise<void>;

  before(async function () {
    this.timeout(240_000);
    service = await startService({ jwtSecret: randomBytes(32).toString('hex'), env: { LOG_LEVEL: 'warn' } });
    session = await launchBrowser();
  });
  after(async () => {
    await session?.close();
    await service?.stop();
  });
  beforeEach(async () => {
    const opened = await newPage(session);
    page = opened.page;
    closeContext = () => opened.context.close();
    await page.goto(`${service.url}/checkout`);
    await page.getByRole('button', { name: 'Pay' }).waitFor();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      process.stderr.write(`--- page ---\n${pageLog(page).join('\n')}\n--- service ---\n${service.output().join('\n')}\n`);
    }
    await closeContext();
  });

  const cardField = () => page.getByLabel('Card number');
  const payButton = () => page.getByRole('button', { name: 'Pay' });
  async function payWith(cardNumber: string): Promise<void> {
    await cardField().fill(cardNumber);
    await payButton().click();
  }
  const authFrame = () => page.frameLocator('iframe[title="3-D Secure authentication"]');
  const onlyPayment = async () => {
    const payments = await paymentsOf(service.url, await pageToken(page));
    expect(payments, 'payments of the demo user').to.have.length(1);
    return payments[0];
  };

  const cards = [
    { number: '4242 4242 4242 4242', status: 'succeeded', says: 'Payment succeeded', shot: 'succeeded-4242' },
    { number: '4000 0000 0000 0002', status: 'failed', says: 'Your card was declined.', shot: 'declined-0002' },
    { number: '4000 0000 0000 9995', status: 'failed', says: 'Your card has insufficient funds.', shot: 'insufficient-funds-9995' },
  ];
  for (const card of cards) {
    it(`when a person pays with ${card.number}, then the status shows ${card.status}${card.status === 'failed' ? ' and the decline message' : ''}`, async () => {
      await payWith(card.number);
      const text = await statusShowing(page, card.status);
      expect(text).to.contain(card.says);
      await screenshot(page, card.shot);
      const payment = await onlyPayment();
      expect(payment.status).to.equal(card.status);
    });
  }

  it('when a person pays with 4000 0025 0000 3155 and completes 3-D Secure, then the payment succeeds through the webhook pipeline', async () => {
    await payWith('4000 0025 0000 3155');
    await statusShowing(page, 'requires_action');
    await authFrame().getByRole('button', { name: 'Complete' }).waitFor();
    await screenshot(page, '3ds-step');
    await authFrame().getByRole('button', { name: 'Complete' }).click();
    await statusShowing(page, 'succeeded');
    await screenshot(page, '3ds-completed');
    const payment = await onlyPayment();
    expect(payment.status).to.equal('succeeded');
    const moves = await historyOf(service.url, await pageToken(page), payment.id);
    expect(moves.at(-1)).to.include({ from: 'requires_action', to: 'succeeded', source: 'webhook' });
  });

  it('when a person fails 3-D Secure, then the payment ends failed with the authentication message', async () => {
    await payWith('4000 0025 0000 3155');
    await authFrame().getByRole('button', { name: 'Fail' }).click();
    const text = await statusShowing(page, 'failed');
    expect(text).to.contain('unable to authenticate');
    await screenshot(page, '3ds-failed');
    const payment = await onlyPayment();
    expect(payment.status).to.equal('failed');
    expect((await historyOf(service.url, await pageToken(page), payment.id)).at(-1)).to.include({ to: 'failed', source: 'webhook' });
  });

  it('when a card is declined and the person tries 4242 next, then the same payment succeeds (one payment)', async () => {
    await payWith('4000 0000 0000 0002');
    await statusShowing(page, 'failed');
    const declined = await onlyPayment();
    await payWith('4242 4242 4242 4242');
    await statusShowing(page, 'succeeded');
    await screenshot(page, 'retry-succeeded');
    const payment = await onlyPayment();
    expect(payment).to.include({ id: declined.id, status: 'succeeded', payment_method: 'pm_card_visa' });
  });

  it('when a person saves their card, reloads and pays again with the saved card, then the second payment is made with that card', async () => {
    await page.getByLabel('Save this card for next time').check();
    await payWith('4242 4242 4242 4242');
    await statusShowing(page, 'succeeded');

    await page.getByRole('button', { name: 'Start a new payment' }).click();
    await page.reload();
    const saved = page.getByRole('radio', { name: /visa .*4242/i });
    await saved.waitFor();
    expect(await page.getByText(/expires 12\/\d{4}/).count()).to.equal(1);
    await screenshot(page, 'saved-card-offered');
    expect(await saved.isChecked()).to.equal(true);
    await payButton().click();
    await statusShowing(page, 'succeeded');
    await screenshot(page, 'saved-card-succeeded');

    const token = await pageToken(page);
    const cardsRes = await fetch(`${service.url}/v1/payment-methods`, { headers: { authorization: `Bearer ${token}` } });
    const [card] = ((await cardsRes.json()) as { data: Array<{ id: string; last4: string }> }).data;
    expect(card).to.include({ last4: '4242' });
    const payments = await paymentsOf(service.url, token);
    expect(payments.map((p) => p.status)).to.deep.equal(['succeeded', 'succeeded']);
    expect(payments[0].payment_method).to.equal(card.id);
  });

  it('when a person double-clicks Pay, then one payment is made and charged once', async () => {
    await cardField().fill('4242 4242 4242 4242');
    await payButton().dblclick();
    await statusShowing(page, 'succeeded');
    const payment = await onlyPayment();
    const moves = await historyOf(service.url, await pageToken(page), payment.id);
    expect(moves.filter((m) => m.to === 'succeeded')).to.have.length(1);
  });

  it('when the person reloads while 3-D Secure is pending, then the page resumes the same payment and completing it succeeds', async () => {
    await payWith('4000 0025 0000 3155');
    await authFrame().getByRole('button', { name: 'Complete' }).waitFor();
    const pending = await onlyPayment();
    expect(pending.status).to.equal('requires_action');

    await page.reload();
    await statusShowing(page, 'requires_action');
    await authFrame().getByRole('button', { name: 'Complete' }).click();
    await statusShowing(page, 'succeeded');
    const payment = await onlyPayment();
    expect(payment).to.include({ id: pending.id, status: 'succeeded' });
  });

  it('when the person reloads after a decline, then the retry pays the same payment', async () => {
    await payWith('4000 0000 0000 9995');
    await statusShowing(page, 'failed');
    await page.reload();
    await statusShowing(page, 'failed');
    await payWith('4242 4242 4242 4242');
    await statusShowing(page, 'succeeded');
    const payment = await onlyPayment();
    expect(payment.status).to.equal('succeeded');
  });
});
