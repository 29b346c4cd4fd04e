'use strict';

/**
 * One row per (outbox event, target): the Redis stream, the order service, each event webhook URL.
 * Each target has its own attempts and state, so one failing target neither blocks nor repeats the others.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE outbox_deliveries (
        id               bigserial PRIMARY KEY,
        event_id         text NOT NULL REFERENCES outbox_events(id) ON DELETE CASCADE,
        aggregate_id     text NOT NULL,
        sequence         bigint NOT NULL,
        target           text NOT NULL,
        state            text NOT NULL DEFAULT 'pending',
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        locked_until     timestamptz,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        delivered_at     timestamptz,
        CONSTRAINT outbox_deliveries_event_target_unique UNIQUE (event_id, target)
      );
      CREATE INDEX outbox_deliveries_due_idx ON outbox_deliveries (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX outbox_deliveries_order_idx ON outbox_deliveries (target, aggregate_id, sequence) WHERE state = 'pending';
      CREATE INDEX outbox_deliveries_state_idx ON outbox_deliveries (state, created_at DESC);
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP TABLE IF EXISTS outbox_deliveries');
  },
};
