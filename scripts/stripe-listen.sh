#!/usr/bin/env bash
# Forwards your Stripe test account's events to a local service with the Stripe CLI
# (https://docs.stripe.com/stripe-cli). `stripe listen` prints a signing secret (whsec_...):
# start the service with STRIPE_WEBHOOK_SECRET set to it, e.g.
#   STRIPE_SECRET_KEY=sk_test_... STRIPE_WEBHOOK_SECRET=whsec_... npm start
# Then drive events with `stripe trigger payment_intent.succeeded` (those intents are not ours, so
# they are stored as ignored), or pay through the service and watch the events arrive.
set -euo pipefail
PORT="${PORT:-3000}"
EVENTS="payment_intent.created,payment_intent.processing,payment_intent.requires_action,payment_intent.succeeded,payment_intent.payment_failed,payment_intent.canceled,payment_intent.amount_capturable_updated,charge.refunded,refund.created,refund.updated,refund.failed,charge.dispute.created,charge.dispute.updated,charge.dispute.closed,charge.dispute.funds_withdrawn,charge.dispute.funds_reinstated"

if ! command -v stripe >/dev/null 2>&1; then
  echo "The Stripe CLI is not installed; see https://docs.stripe.com/stripe-cli, or use: npm run send-event -- --type payment_intent.succeeded --payment pay_..." >&2
  exit 1
fi
echo "Print the signing secret to use as STRIPE_WEBHOOK_SECRET: stripe listen --print-secret"
exec stripe listen --events "$EVENTS" --forward-to "localhost:${PORT}/v1/webhooks/stripe"
