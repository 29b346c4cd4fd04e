'use strict';

/** Payments, their status history, and the idempotency keys that guard every money-moving POST. */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE payments (
        id                   text PRIMARY KEY,
        user_id              text NOT NULL,
        order_id             text,
        amount               bigint NOT NULL CHECK (amount > 0),
        currency             text NOT NULL,
        amount_refunded      bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
        status               text NOT NULL,
        description          text,
        metadata             jsonb NOT NULL DEFAULT '{}'::jsonb,
        provider             text NOT NULL,
        provider_payment_id  text UNIQUE,
        client_secret        text,
        payment_method       text,
        failure_code         text,
        failure_message      text,
        next_action          jsonb,
        dispute_id           text,
        dispute_status       text,
        dispute_reason       text,
        amount_disputed      bigint NOT NULL DEFAULT 0,
        provider_object      jsonb,
        provider_synced_at   timestamptz,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC, id DESC);
      CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);
      CREATE INDEX payments_order_idx ON payments (order_id);
      CREATE INDEX payments_open_idx ON payments (status, updated_at)
        WHERE status IN ('pending', 'requires_action', 'processing');

      CREATE TABLE payment_status_history (
        id           bigserial PRIMARY KEY,
        payment_id   text NOT NULL REFERENCES payments(id) ON DELETE CASCADE,
        from_status  text,
        to_status    text NOT NULL,
        source       text NOT NULL,
        event_id     text,
        created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX payment_status_history_payment_idx ON payment_status_history (payment_id, id);

      CREATE TABLE idempotency_keys (
        id                   bigserial PRIMARY KEY,
        user_id              text NOT NULL,
        idempotency_key      text NOT NULL,
        request_method       text NOT NULL,
        request_path         text NOT NULL,
        request_fingerprint  text NOT NULL,
        locked_at            timestamptz,
        recovery_point       text NOT NULL DEFAULT 'started',
        payment_id           text REFERENCES payments(id) ON DELETE SET NULL,
        response_status      integer,
        response_body        text,
        created_at           timestamptz NOT NULL DEFAULT now(),
        last_used_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_user_key_unique UNIQUE (user_id, idempotency_key)
      );
      CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
    `);
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query(`
      DROP TABLE IF EXISTS idempotency_keys;
      DROP TABLE IF EXISTS payment_status_history;
      DROP TABLE IF EXISTS payments;
    `);
  },
};
