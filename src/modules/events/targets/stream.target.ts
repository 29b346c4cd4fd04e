import type { Redis } from 'ioredis';
import type { DeliveryTarget, OutgoingEvent } from './delivery-target';

export const EVENTS_STREAM = 'payments:events';
/** Roughly how many entries the stream keeps (XADD MAXLEN ~): consumers are expected to keep up. */
const STREAM_MAX_LENGTH = 100_000;

/** XADD to the Redis stream `payments:events`; consumers dedupe by `event_id` (delivery is at least once). */
export class RedisStreamTarget implements DeliveryTarget {
  constructor(private readonly redis: Redis) {}

  async deliver(event: OutgoingEvent): Promise<void> {
    await this.redis.xadd(
      EVENTS_STREAM,
      'MAXLEN',
      '~',
      String(STREAM_MAX_LENGTH),
      '*',
      'event_id',
      event.id,
      'type',
      event.type,
      'payment_id',
      event.aggregateId,
      'payload',
      JSON.stringify(event.payload),
    );
  }
}

/**
 * The in-process stand-in when REDIS_URL is unset: keeps the latest entries in memory (one instance,
 * development only), so the delivery path is the same with or without Redis.
 */
export class InMemoryStreamTarget implements DeliveryTarget {
  readonly entries: OutgoingEvent[] = [];

  constructor(private readonly keep = 1_000) {}

  async deliver(event: OutgoingEvent): Promise<void> {
    this.entries.push(event);
    if (this.entries.length > this.keep) this.entries.splice(0, this.entries.length - this.keep);
  }
}
