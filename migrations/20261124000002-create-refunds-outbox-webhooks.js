'use strict';

/**
 * Refunds (dashboard refunds arrive by webhook too), the transactional outbox of events this
 * service emits, and the durable inbox of Stripe webhook events.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE refunds (
        id                  text PRIMARY KEY,
        payment_id          text NOT NULL REFERENCES payments(id),
        amount              bigint NOT NULL CHECK (amount > 0),
        currency            text NOT NULL,
        status              text NOT NULL,
        reason              text,
        provider_refund_id  text UNIQUE,
        failure_reason      text,
        source              text NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at);

      CREATE TABLE outbox_events (
        id            text PRIMARY KEY,
        sequence      bigserial UNIQUE,
        aggregate_id  text NOT NULL,
        type          text NOT NULL,
        payload       jsonb NOT NULL,
        state         text NOT NULL DEFAULT 'pending',
        attempts      integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error    text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        delivered_at  timestamptz
      );
      CREATE INDEX outbox_events_pending_idx ON outbox_events (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX outbox_events_aggregate_idx ON outbox_events (aggregate_id, sequence);

      CREATE TABLE webhook_events (
        id                  text PRIMARY KEY,
        type                text NOT NULL,
        provider_created    bigint NOT NULL,
        api_version         text,
        livemode            boolean NOT NULL DEFAULT false,
        account             text,
        object_id           text,
        payment_id          text,
        payload             text NOT NULL,
        signature_verified  boolean NOT NULL,
        state               text NOT NULL DEFAULT 'pending',
        attempts            integer NOT NULL DEFAULT 0,
        next_attempt_at     timestamptz NOT NULL DEFAULT now(),
        locked_until        timestamptz,
        last_error          text,
        outcome             text,
        received_at         timestamptz NOT NULL DEFAULT now(),
        processed_at        timestamptz
      );
      CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at) WHERE state IN ('pending', 'retrying');
      CREATE INDEX webhook_events_state_idx ON webhook_events (state, received_at DESC);
      CREATE INDEX webhook_events_type_idx ON webhook_events (type, received_at DESC);
      CREATE INDEX webhook_events_object_idx ON webhook_events (object_id);
    `);
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query(`
      DROP TABLE IF EXISTS webhook_events;
      DROP TABLE IF EXISTS outbox_events;
      DROP TABLE IF EXISTS refunds;
    `);
  },
};
