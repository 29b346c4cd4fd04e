// The demo checkout page: plain browser JavaScript, no build step. It speaks to the payments API
// exactly as a shop's own page would (see README, "Checkout page"): create the payment, confirm it
// (Stripe.js with Stripe; a test PaymentMethod with the mock), then show the status the webhooks settle.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'checkout.token';
  const PAYMENT_KEY = 'checkout.payment';
  const POLL_INTERVAL_MS = 1000;
  const POLL_TIMEOUT_MS = 90000;
  const FINAL = ['succeeded', 'failed', 'canceled', 'refunded', 'partially_refunded'];
  const OPEN = ['pending', 'requires_action', 'processing', 'failed'];
  const STRIPE_JS = 'https://js.stripe.com/clover/stripe.js';

  // Stripe's test card numbers and the test PaymentMethods they stand for
  // (https://docs.stripe.com/testing#cards). The mock provider takes the PaymentMethods; the number
  // itself never leaves the browser.
  const TEST_CARDS = {
    '4242424242424242': 'pm_card_visa',
    '4000056655665556': 'pm_card_visa_debit',
    '5555555555554444': 'pm_card_mastercard',
    '378282246310005': 'pm_card_amex',
    '6011111111111117': 'pm_card_discover',
    '4000000000000002': 'pm_card_chargeDeclined',
    '4000000000009995': 'pm_card_chargeDeclinedInsufficientFunds',
    '4000000000009987': 'pm_card_chargeDeclinedLostCard',
    '4000000000009979': 'pm_card_chargeDeclinedStolenCard',
    '4000000000000069': 'pm_card_chargeDeclinedExpiredCard',
    '4000000000000127': 'pm_card_chargeDeclinedIncorrectCvc',
    '4000000000000119': 'pm_card_chargeDeclinedProcessingError',
    '4000002500003155': 'pm_card_authenticationRequiredOnSetup',
    '4000002760003184': 'pm_card_authenticationRequired',
    '4000000000003220': 'pm_card_threeDSecure2Required',
  };

  // `confirmed`: Stripe.js has confirmed the payment (here or before a redirect back): wait for the webhook, never re-offer the card field.
  const state = { config: null, token: null, payment: null, busy: false, stripe: null, elements: null, pollRun: 0, confirmed: false };

  // ---- API ----------------------------------------------------------------------------------

  async function api(method, path, body, idempotencyKey) {
    const headers = { authorization: `Bearer ${state.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) forgetToken();
    return { ok: res.ok, status: res.status, body: data };
  }

  function errorMessage(r) {
    return (r.body && r.body.error && r.body.error.message) || `The request failed (HTTP ${r.status}).`;
  }

  async function customerToken() {
    // A shop hands its own customer token in the fragment (never sent to a server, never logged).
    const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromFragment) {
      sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token: fromFragment }));
      history.replaceState(null, '', location.pathname + location.search);
    }
    const stored = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || 'null');
    if (stored && (!stored.expires_at || Date.parse(stored.expires_at) - Date.now() > 60000)) return stored.token;
    if (!state.config.demo_token_url) throw new Error('No customer token: open this page from your shop with #token=<customer token>.');
    const res = await fetch(state.config.demo_token_url, { method: 'POST' });
    if (!res.ok) throw new Error(`Could not get a demo customer token (HTTP ${res.status}).`);
    const demo = await res.json();
    // Kept across visits, so the demo user comes back to their saved cards.
    localStorage.setItem(TOKEN_KEY, JSON.stringify({ token: demo.token, expires_at: demo.expires_at }));
    return demo.token;
  }

  function forgetToken() {
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
  }

  // ---- money --------------------------------------------------------------------------------

  function exponentOf(currency) {
    const e = state.config.currency_exponents[currency];
    return e === undefined ? 2 : e;
  }

  /** "20.00" in usd -> 2000, without floats; null when it is not an amount. */
  function toMinor(text, currency) {
    const exponent = exponentOf(currency);
    const m = /^\s*(\d{1,9})(?:[.,](\d+))?\s*$/.exec(text);
    if (!m || (m[2] || '').length > exponent) return null;
    const minor = Number(m[1] + (m[2] || '').padEnd(exponent, '0'));
    return minor > 0 ? minor : null;
  }

  function formatMoney(minor, currency) {
    const exponent = exponentOf(currency);
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() }).format(minor / 10 ** exponent);
    } catch {
      return `${minor} ${currency}`;
    }
  }

  // ---- the form -----------------------------------------------------------------------------

  function readOrder() {
    const currency = $('currency').value;
    return { amount: toMinor($('amount').value, currency), currency, order_id: $('order-id').value.trim() };
  }

  function showTotal() {
    const { amount, currency } = readOrder();
    $('total').textContent = amount === null ? '—' : formatMoney(amount, currency);
  }

  function lockSummary(payment) {
    $('order-id').value = payment.order_id || '';
    $('currency').value = payment.currency;
    const exponent = exponentOf(payment.currency);
    const digits = String(payment.amount).padStart(exponent + 1, '0');
    $('amount').value = exponent ? `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}` : digits;
    for (const id of ['order-id', 'amount', 'currency']) $(id).disabled = true;
    showTotal();
  }

  function choice() {
    const checked = document.querySelector('input[name="card-choice"]:checked');
    return checked ? checked.value : 'new';
  }

  function setBusy(busy) {
    state.busy = busy;
    $('pay').disabled = busy;
    $('continue').disabled = busy;
    $('pay').textContent = busy ? 'Processing…' : 'Pay';
  }

  function showStatus(kind, title, detail) {
    const el = $('status');
    el.hidden = false;
    el.className = `status ${kind}`;
    el.replaceChildren();
    const strong = document.createElement('strong');
    strong.textContent = title;
    el.append(strong);
    if (detail) el.append(document.createTextNode(detail));
  }

  function fieldError(text) {
    $('card-error').textContent = text;
  }

  function refreshChoice() {
    const stripeMode = state.config.provider === 'stripe';
    const usingNew = choice() === 'new';
    $('new-card').hidden = !usingNew;
    const mounted = Boolean(state.elements);
    $('continue').hidden = !(stripeMode && usingNew && !mounted);
    $('pay').hidden = stripeMode && usingNew && !mounted;
  }

  // ---- saved cards --------------------------------------------------------------------------

  async function loadSavedCards() {
    const r = await api('GET', '/v1/payment-methods?limit=10');
    const list = $('saved-card-list');
    list.replaceChildren();
    if (!r.ok || r.body.data.length === 0) {
      $('saved-cards').hidden = true;
      return;
    }
    for (const [i, card] of r.body.data.entries()) {
      const label = document.createElement('label');
      label.className = 'choice';
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'card-choice';
      radio.value = card.id;
      radio.checked = i === 0;
      const brand = document.createElement('span');
      brand.className = 'card-brand';
      brand.textContent = card.brand;
      const exp = document.createElement('span');
      exp.className = 'card-exp';
      exp.textContent = `expires ${String(card.exp_month).padStart(2, '0')}/${card.exp_year}`;
      label.append(radio, brand, document.createTextNode(` •••• ${card.last4} `), exp);
      list.append(label);
    }
    $('saved-cards').hidden = false;
  }

  // ---- Stripe.js ----------------------------------------------------------------------------

  function loadStripeJs() {
    if (window.Stripe) return Promise.resolve(window.Stripe);
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = STRIPE_JS;
      script.onload = () => (window.Stripe ? resolve(window.Stripe) : reject(new Error('Stripe.js did not load')));
      script.onerror = () => reject(new Error('Stripe.js could not be loaded'));
      document.head.append(script);
    });
  }

  async function stripeClient() {
    if (!state.stripe) state.stripe = (await loadStripeJs())(state.config.publishable_key);
    return state.stripe;
  }

  /** The Payment Element, for the payment's client secret (https://docs.stripe.com/payments/payment-element). */
  async function mountPaymentElement(clientSecret) {
    const stripe = await stripeClient();
    state.elements = stripe.elements({ clientSecret });
    state.elements.create('payment').mount('#payment-element');
    $('stripe-card-field').hidden = false;
    refreshChoice();
  }

  // ---- the payment --------------------------------------------------------------------------

  function remember(payment) {
    state.payment = payment;
    sessionStorage.setItem(PAYMENT_KEY, payment.id);
    lockSummary(payment);
    // Saving was decided when the payment was created (setup_future_usage); a retry cannot change it.
    $('save-card').disabled = true;
    // A saved card pays only a payment made for it; once a payment is under way, retries take a new card.
    $('saved-cards').hidden = true;
    const newCard = document.querySelector('input[name="card-choice"][value="new"]');
    if (newCard) newCard.checked = true;
    refreshChoice();
  }

  function newAttemptKey() {
    return `checkout_${crypto.randomUUID()}`;
  }

  async function createPayment(extra) {
    const order = readOrder();
    if (order.amount === null) {
      showStatus('error', 'Check the amount', ' Enter an amount such as 20.00.');
      return null;
    }
    const body = { amount: order.amount, currency: order.currency, ...(order.order_id ? { order_id: order.order_id } : {}), ...extra };
    return api('POST', '/v1/payments', body, newAttemptKey());
  }

  async function onPay(event) {
    event.preventDefault();
    if (state.busy || state.payment?.status === 'succeeded') return;
    setBusy(true);
    fieldError('');
    try {
      const selected = choice();
      if (state.config.provider === 'stripe' && selected === 'new') return await confirmWithStripeJs();
      const paymentMethod = selected === 'new' ? testPaymentMethod() : selected;
      if (!paymentMethod) return;
      const save = selected === 'new' && $('save-card').checked;
      let r;
      if (!state.payment) {
        r = await createPayment({ payment_method: paymentMethod, ...(save ? { setup_future_usage: 'off_session' } : {}) });
        if (!r) return;
      } else {
        r = await api('POST', `/v1/payments/${state.payment.id}/confirm`, { payment_method: paymentMethod }, newAttemptKey());
      }
      await afterApiAnswer(r);
    } catch (err) {
      showStatus('error', 'Something went wrong', ` ${err.message}`);
    } finally {
      setBusy(false);
      refreshChoice();
    }
  }

  function testPaymentMethod() {
    const digits = $('card-number').value.replace(/[\s-]/g, '');
    if (!digits) {
      fieldError('Enter a card number.');
      return null;
    }
    const pm = TEST_CARDS[digits];
    if (!pm) fieldError('Use one of Stripe’s test card numbers, e.g. 4242 4242 4242 4242.');
    return pm || null;
  }

  /** Stripe mode, first step: the payment (its client secret) before the Payment Element can be shown. */
  async function onContinue() {
    if (state.busy) return;
    setBusy(true);
    try {
      const r = await createPayment($('save-card').checked ? { setup_future_usage: 'off_session' } : {});
      if (!r) return;
      if (!r.ok) return showStatus('error', 'The payment could not be started', ` ${errorMessage(r)}`);
      remember(r.body);
      await mountPaymentElement(r.body.client_secret);
    } catch (err) {
      showStatus('error', 'Something went wrong', ` ${err.message}`);
    } finally {
      setBusy(false);
      refreshChoice();
    }
  }

  async function confirmWithStripeJs() {
    const returnUrl = `${location.origin}${location.pathname}?payment_id=${encodeURIComponent(state.payment.id)}`;
    const result = await state.stripe.confirmPayment({
      elements: state.elements,
      confirmParams: { return_url: returnUrl },
      redirect: 'if_required',
    });
    state.confirmed = !(result && result.error);
    if (result && result.error) {
      // A decline: the webhook settles the payment as failed; the person may try another card.
      showStatus('failed', 'Payment failed', ` ${result.error.message || 'Your card was declined.'}`);
      return;
    }
    await settle(state.payment.id);
  }

  async function afterApiAnswer(r) {
    const paymentId = r.ok ? r.body.id : r.body.error && r.body.error.payment_id;
    if (!paymentId) return showStatus('error', 'The payment could not be made', ` ${errorMessage(r)}`);
    if (r.ok) remember(r.body);
    await settle(paymentId);
  }

  /** Shows the payment as the webhooks settle it: polls GET /v1/payments/:id until it is final. */
  async function settle(paymentId) {
    const run = ++state.pollRun;
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    for (;;) {
      const r = await api('GET', `/v1/payments/${paymentId}`);
      if (run !== state.pollRun) return;
      if (!r.ok) return showStatus('error', 'The payment could not be read', ` ${errorMessage(r)}`);
      const payment = r.body;
      remember(payment);
      if (payment.status === 'requires_action') await authenticate(payment);
      else hideAuth();
      if (FINAL.includes(payment.status)) return showFinal(payment);
      if (payment.status === 'pending' && !payment.payment_method && !state.confirmed) return showReady(payment);
      if (payment.status !== 'requires_action') {
        showStatus(payment.status, 'Waiting for the bank’s answer…', ` (status: ${payment.status})`);
      }
      if (Date.now() > deadline) {
        return showStatus(
          'timeout',
          `Payment still ${payment.status}`,
          ' The bank has not answered yet. This page shows the result when you reload it later.',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }

  function showReady(payment) {
    $('status').hidden = true;
    if (state.config.provider === 'stripe' && !state.elements && payment.client_secret) return mountPaymentElement(payment.client_secret);
  }

  function showFinal(payment) {
    const money = formatMoney(payment.amount, payment.currency);
    if (payment.status === 'failed') {
      showStatus('failed', 'Payment failed', ` ${payment.failure_message || 'The payment was declined.'} Try another card.`);
      $('card-number').value = '';
      $('card-number').focus();
      if (state.config.provider === 'stripe' && !state.elements && payment.client_secret) void mountPaymentElement(payment.client_secret);
    } else if (payment.status === 'succeeded') {
      showStatus('succeeded', 'Payment succeeded', ` ${money} paid${payment.order_id ? ` for order ${payment.order_id}` : ''}. Thank you!`);
      $('pay').disabled = true;
      $('pay').hidden = true;
      $('pay-form').hidden = true;
      $('new-payment').hidden = false;
    } else {
      showStatus(payment.status, `Payment ${payment.status}`, ` ${money}.`);
      $('pay-form').hidden = true;
      $('new-payment').hidden = false;
    }
    void loadHistory(payment.id);
  }

  async function loadHistory(paymentId) {
    const r = await api('GET', `/v1/payments/${paymentId}/history`);
    if (!r.ok) return;
    const list = $('history-list');
    list.replaceChildren();
    for (const move of r.body.data) {
      const item = document.createElement('li');
      const at = new Date(move.at).toLocaleTimeString();
      item.textContent = `${move.from || 'created'} → ${move.to} (${move.source}, ${at})`;
      list.append(item);
    }
    $('history').hidden = false;
  }

  // ---- 3-D Secure ---------------------------------------------------------------------------

  async function authenticate(payment) {
    showStatus('requires_action', 'Authentication required', ' Confirm the payment with your bank to finish (status: requires_action).');
    const action = payment.next_action || {};
    const frameUrl = action.use_stripe_sdk && action.use_stripe_sdk.stripe_js;
    if (state.config.provider === 'stripe') {
      // Stripe.js shows the bank's page itself (https://docs.stripe.com/js/payment_intents/handle_next_action).
      if (state.handlingAction === payment.id) return;
      state.handlingAction = payment.id;
      const stripe = await stripeClient();
      const result = await stripe.handleNextAction({ clientSecret: payment.client_secret });
      if (result && result.error) showStatus('failed', 'Payment failed', ` ${result.error.message}`);
      return;
    }
    // The mock's own 3-D Secure page, shown in a frame as Stripe.js shows Stripe's.
    if (typeof frameUrl !== 'string' || !frameUrl.startsWith('/') || !payment.client_secret) return;
    const src = `${frameUrl}?client_secret=${encodeURIComponent(payment.client_secret)}`;
    if ($('auth-frame').getAttribute('src') !== src) $('auth-frame').setAttribute('src', src);
    $('auth').hidden = false;
  }

  function hideAuth() {
    if ($('auth').hidden) return;
    $('auth').hidden = true;
    $('auth-frame').removeAttribute('src');
  }

  // ---- start --------------------------------------------------------------------------------

  function startOver() {
    sessionStorage.removeItem(PAYMENT_KEY);
    location.href = location.pathname;
  }

  async function start() {
    state.config = await fetch('/checkout/config.json').then((r) => r.json());
    const stripeMode = state.config.provider === 'stripe';
    $('provider-name').textContent = stripeMode ? 'Stripe' : 'the mock provider (Stripe test mode, inside this service)';
    $('mock-card-field').hidden = stripeMode;
    $('order-id').value = `ord_${crypto.randomUUID().slice(0, 8)}`;
    for (const id of ['amount', 'currency']) $(id).addEventListener('input', showTotal);
    showTotal();
    $('pay-form').addEventListener('submit', onPay);
    $('continue').addEventListener('click', onContinue);
    $('new-payment').addEventListener('click', startOver);
    $('saved-cards').addEventListener('change', refreshChoice);
    refreshChoice();

    state.token = await customerToken();
    // Back from Stripe (a redirect after confirmPayment), or a reload: the same payment, never a new one.
    const query = new URLSearchParams(location.search);
    const resumed = query.get('payment_id') || sessionStorage.getItem(PAYMENT_KEY);
    // Stripe's redirect back names the outcome (https://docs.stripe.com/payments/accept-a-payment?platform=web#web-submit-payment).
    state.confirmed = query.has('redirect_status') && query.get('redirect_status') !== 'failed';
    if (query.get('payment_id')) history.replaceState(null, '', location.pathname);
    if (resumed) {
      const r = await api('GET', `/v1/payments/${resumed}`);
      if (r.ok && (OPEN.includes(r.body.status) || FINAL.includes(r.body.status))) {
        remember(r.body);
        await settle(r.body.id);
        return;
      }
      sessionStorage.removeItem(PAYMENT_KEY);
    }
    await loadSavedCards();
    refreshChoice();
  }

  document.addEventListener('DOMContentLoaded', () => {
    start().catch((err) => showStatus('error', 'The checkout could not start', ` ${err.message}`));
  });
})();
