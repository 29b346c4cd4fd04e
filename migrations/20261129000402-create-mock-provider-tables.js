'use strict';

/**
 * The mock provider's own state (Stripe test mode in the service's database), so every replica and
 * every restart sees one Stripe account: its PaymentIntents, refunds, customers, SetupIntents,
 * PaymentMethods, the events it emitted (listable like GET /v1/events) and its idempotency keys.
 * Each object is kept whole, Stripe-shaped, in `data`; `seq` orders lists as Stripe's (newest first).
 * Only the mock provider reads or writes these tables; a Stripe deployment leaves them empty.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE mock_payment_intents (
        id                      text PRIMARY KEY,
        seq                     bigserial NOT NULL,
        data                    jsonb NOT NULL,
        amount_refunded_before  bigint NOT NULL DEFAULT 0,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE mock_refunds (
        id          text PRIMARY KEY,
        seq         bigserial NOT NULL,
        parent_id   text NOT NULL,
        data        jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX mock_refunds_parent_idx ON mock_refunds (parent_id, seq);
      CREATE TABLE mock_customers (
        id          text PRIMARY KEY,
        seq         bigserial NOT NULL,
        parent_id   text,
        data        jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE mock_setup_intents (
        id          text PRIMARY KEY,
        seq         bigserial NOT NULL,
        parent_id   text,
        data        jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE mock_payment_methods (
        id          text PRIMARY KEY,
        seq         bigserial NOT NULL,
        parent_id   text,
        data        jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX mock_payment_methods_parent_idx ON mock_payment_methods (parent_id, seq);
      CREATE TABLE mock_events (
        id                text PRIMARY KEY,
        seq               bigserial NOT NULL UNIQUE,
        type              text NOT NULL,
        created           bigint NOT NULL,
        data              jsonb NOT NULL,
        delivery_success  boolean,
        created_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX mock_events_created_idx ON mock_events (created, seq);
      CREATE TABLE mock_idempotency_keys (
        key         text PRIMARY KEY,
        request     jsonb NOT NULL,
        answer      jsonb,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`
      DROP TABLE IF EXISTS mock_idempotency_keys, mock_events, mock_payment_methods, mock_setup_intents,
        mock_customers, mock_refunds, mock_payment_intents;
    `);
  },
};
