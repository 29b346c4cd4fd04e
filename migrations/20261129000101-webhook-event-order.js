'use strict';

/**
 * Per-payment event order.
 * - webhook_events.ordering_key: the provider PaymentIntent an event is about (the object itself for
 *   payment_intent.*, its `payment_intent` for charges, refunds and disputes). The worker claims one
 *   event per key at a time, oldest first, so one payment's events are applied one by one in order.
 * - payments.last_event_created / last_event_id: the provider `created` (unix seconds) and id of the
 *   last PaymentIntent event applied to the payment; an older event never moves it.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      ALTER TABLE webhook_events ADD COLUMN ordering_key text;
      UPDATE webhook_events
         SET ordering_key = CASE
               WHEN type LIKE 'payment_intent.%' THEN object_id
               ELSE COALESCE(payload::jsonb #>> '{data,object,payment_intent,id}', payload::jsonb #>> '{data,object,payment_intent}')
             END
       WHERE state IN ('pending', 'retrying', 'processing');
      CREATE INDEX webhook_events_unfinished_key_idx ON webhook_events (ordering_key, provider_created, received_at)
        WHERE state IN ('pending', 'retrying', 'processing');
      ALTER TABLE payments ADD COLUMN last_event_created bigint, ADD COLUMN last_event_id text;
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`
      ALTER TABLE payments DROP COLUMN last_event_id, DROP COLUMN last_event_created;
      DROP INDEX IF EXISTS webhook_events_unfinished_key_idx;
      ALTER TABLE webhook_events DROP COLUMN ordering_key;
    `);
  },
};
