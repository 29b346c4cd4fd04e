import type { ProviderPaymentMethod, ProviderSetupIntent } from '../../providers/payment-provider';

/** The API's saved card: what a customer needs to recognise it, nothing more. Null for a non-card. */
export function serializePaymentMethod(pm: ProviderPaymentMethod) {
  if (!pm.card) return null;
  return {
    id: pm.id,
    object: 'payment_method' as const,
    brand: pm.card.brand,
    last4: pm.card.last4,
    exp_month: pm.card.expMonth,
    exp_year: pm.card.expYear,
    created_at: pm.created.toISOString(),
  };
}

/** What Stripe.js needs to collect and save a card: the SetupIntent's client secret and our publishable key. */
export function serializeSetupIntent(si: ProviderSetupIntent, publishableKey: string | null) {
  return {
    object: 'setup_intent' as const,
    id: si.id,
    client_secret: si.clientSecret,
    status: si.status,
    publishable_key: publishableKey,
  };
}
