import { createHmac } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { createOutboundClient } from '../../../shared/http/outbound-client';
import type { DeliveryTarget, OutgoingEvent } from './delivery-target';

/** An HTTP client, each try bounded by `timeoutMs` (EVENT_DELIVERY_TIMEOUT_MS, default 5 s), that retries twice at once on network errors and 5xx; longer outages go back to the outbox's backoff. */
export function createDeliveryClient(timeoutMs: number): AxiosInstance {
  const client = createOutboundClient({ timeoutMs }); // no redirects, bounded bodies, 2xx only
  axiosRetry(client, {
    retries: 2,
    retryDelay: axiosRetry.exponentialDelay,
    // Receivers dedupe by event id, so a retried POST or PATCH is safe.
    retryCondition: (err) => axiosRetry.isNetworkError(err) || (err.response?.status ?? 0) >= 500,
  });
  return client;
}

/** `Payments-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`: the scheme Stripe uses for its webhooks. */
export function signEventPayload(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** POSTs the event, signed, to one EVENT_WEBHOOK_URLS entry. */
export class SignedWebhookTarget implements DeliveryTarget {
  constructor(
    private readonly client: AxiosInstance,
    private readonly url: string,
    private readonly secret: string,
  ) {}

  async deliver(event: OutgoingEvent): Promise<void> {
    const body = JSON.stringify(event.payload);
    await this.client.post(this.url, body, {
      headers: { 'Content-Type': 'application/json', 'Payments-Signature': signEventPayload(body, this.secret) },
    });
  }
}

/** PATCH {ORDER_SERVICE_URL}/v1/orders/{order_id}/payment-status with the payment's new state. */
export class OrderServiceTarget implements DeliveryTarget {
  constructor(
    private readonly client: AxiosInstance,
    private readonly baseUrl: string,
  ) {}

  async deliver(event: OutgoingEvent): Promise<void> {
    const payment = event.payload.data.payment as
      | { id: string; order_id: string | null; status: string; amount: number; amount_refunded: number; currency: string }
      | undefined;
    if (!payment?.order_id) return; // nothing to tell an order service about
    const url = `${this.baseUrl.replace(/\/$/, '')}/v1/orders/${encodeURIComponent(payment.order_id)}/payment-status`;
    await this.client.patch(url, {
      event_id: event.id,
      event_type: event.type,
      payment_id: payment.id,
      status: payment.status,
      amount: payment.amount,
      amount_refunded: payment.amount_refunded,
      currency: payment.currency,
      occurred_at: event.payload.created_at,
    });
  }
}
