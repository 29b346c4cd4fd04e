import type { WebhooksModule } from '../modules/webhooks';

/**
 * Stores the provider's events the webhook never delivered (an outage of hours or days heals by
 * itself; Stripe stops retrying after three days). See CatchUpEventsUseCase for the window.
 */
export async function catchUpEvents(webhooks: WebhooksModule): Promise<void> {
  await webhooks.catchUp.execute();
}
