import { Client } from 'pg';

/**
 * The reference server's own tables, next to the service's in the same benchmark database. They carry
 * the columns and indexes a real create / webhook needs (the same indexes the service's `payments`,
 * `idempotency_keys` and `webhook_events` have on their hot columns), so the reference pays the same
 * index maintenance per row and the comparison measures the request path, not a thinner table.
 */
export const REFERENCE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS ref_payments (
    id                   text PRIMARY KEY,
    user_id              text NOT NULL,
    amount               bigint NOT NULL CHECK (amount > 0),
    currency             text NOT NULL,
    status               text NOT NULL,
    metadata             jsonb NOT NULL DEFAULT '{}'::jsonb,
    provider_payment_id  text UNIQUE,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS ref_payments_user_created_idx ON ref_payments (user_id, created_at DESC, id DESC);
  CREATE INDEX IF NOT EXISTS ref_payments_created_idx ON ref_payments (created_at DESC, id DESC);

  CREATE TABLE IF NOT EXISTS ref_idempotency_keys (
    id                   bigserial PRIMARY KEY,
    user_id              text NOT NULL,
    idempotency_key      text NOT NULL,
    request_fingerprint  text NOT NULL,
    payment_id           text REFERENCES ref_payments(id),
    response_status      integer,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ref_idempotency_keys_user_key_unique UNIQUE (user_id, idempotency_key)
  );
  CREATE INDEX IF NOT EXISTS ref_idempotency_keys_created_idx ON ref_idempotency_keys (created_at);

  CREATE TABLE IF NOT EXISTS ref_webhook_events (
    id            text PRIMARY KEY,
    type          text NOT NULL,
    created       bigint NOT NULL,
    object_id     text,
    payment_id    text,
    payload       text NOT NULL,
    state         text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS ref_webhook_events_state_idx ON ref_webhook_events (state, received_at DESC);
  CREATE INDEX IF NOT EXISTS ref_webhook_events_object_idx ON ref_webhook_events (object_id);
`;

/** Creates the reference tables in the database at `url` (idempotent). */
export async function createReferenceSchema(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(REFERENCE_SCHEMA);
  } finally {
    await client.end();
  }
}
