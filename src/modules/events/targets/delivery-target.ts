/** An event as it leaves the service: the outbox payload, exactly as stored. */
export interface OutgoingEvent {
  id: string;
  type: string;
  aggregateId: string;
  payload: { id: string; type: string; created_at: string; data: Record<string, unknown> } & Record<string, unknown>;
}

/** Somewhere events go. `deliver` resolves only when the target has the event; anything else is a retry. */
export interface DeliveryTarget {
  deliver(event: OutgoingEvent): Promise<void>;
}

/** Target names as stored on deliveries: `stream`, `order_service`, `webhook:<url>`. */
export const STREAM_TARGET = 'stream';
export const ORDER_SERVICE_TARGET = 'order_service';
export const webhookTarget = (url: string) => `webhook:${url}`;
