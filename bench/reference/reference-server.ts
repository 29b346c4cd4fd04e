/**
 * The bare reference for `compare.bench.ts`: Express 5 + node-postgres, no ORM, no framework of ours.
 * It does only what a create and a webhook cannot do without, so it is the ceiling the service is
 * measured against on the same PostgreSQL:
 *   POST /v1/payments         one transaction: INSERT the payment, INSERT the idempotency key (201)
 *   POST /v1/webhooks/stripe  verify Stripe's signature (HMAC-SHA256 over `${t}.${raw body}`), then one
 *                             transaction: INSERT the event (once), UPDATE the payment (200)
 *   GET  /ready               200 once the pool answers
 * Environment: PORT, DATABASE_URL, STRIPE_WEBHOOK_SECRET, REF_POOL_MAX (default 10: the service's
 * DB_POOL_MAX default, so both have the same number of connections). Tables: reference-schema.ts.
 * It skips what the service adds on purpose (JWT, validation schemas, history, outbox, provider call).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { Pool, type PoolClient } from 'pg';

const TOLERANCE_SECONDS = 300;
const UNIQUE_VIOLATION = '23505';

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.REF_POOL_MAX ?? 10) });
const secret = process.env.STRIPE_WEBHOOK_SECRET ?? '';
const app = express();
app.disable('x-powered-by');

async function inTransaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

app.get('/ready', async (_req, res) => {
  await pool.query('SELECT 1');
  res.json({ status: 'ready' });
});

app.post('/v1/payments', express.json({ limit: '100kb' }), async (req: Request, res: Response) => {
  const key = req.get('Idempotency-Key');
  const { amount, currency } = (req.body ?? {}) as { amount?: unknown; currency?: unknown };
  if (!key || !Number.isSafeInteger(amount) || (amount as number) <= 0 || typeof currency !== 'string' || !/^[a-z]{3}$/.test(currency)) {
    res.status(400).json({ error: { code: 'parameter_invalid' } });
    return;
  }
  const id = `pay_${randomBytes(12).toString('hex')}`;
  const userId = 'ref_user';
  const fingerprint = createHash('sha256').update(`POST /v1/payments\n${JSON.stringify(req.body)}`).digest('hex');
  try {
    const payment = await inTransaction(async (c) => {
      const { rows } = await c.query(
        `INSERT INTO ref_payments (id, user_id, amount, currency, status, provider_payment_id)
         VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id, amount, currency, status, created_at`,
        [id, userId, amount, currency, `pi_ref_${id.slice(4)}`],
      );
      await c.query(
        `INSERT INTO ref_idempotency_keys (user_id, idempotency_key, request_fingerprint, payment_id, response_status)
         VALUES ($1, $2, $3, $4, 201)`,
        [userId, key, fingerprint, id],
      );
      return rows[0];
    });
    res.status(201).json({ id: payment.id, object: 'payment', amount: Number(payment.amount), currency: payment.currency, status: payment.status, created_at: payment.created_at });
  } catch (err) {
    const conflict = (err as { code?: string }).code === UNIQUE_VIOLATION;
    res.status(conflict ? 409 : 500).json({ error: { code: conflict ? 'idempotency_key_reused' : 'internal_error' } });
  }
});

/** Stripe's scheme (https://docs.stripe.com/webhooks#verify-manually): any v1 = HMAC-SHA256(secret, `${t}.${body}`), t within tolerance. */
function verified(raw: Buffer, header: string | undefined): boolean {
  if (!header || !secret) return false;
  let t = NaN;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.split('=');
    if (k === 't') t = Number(v);
    else if (k === 'v1' && v) signatures.push(Buffer.from(v, 'hex'));
  }
  if (!Number.isFinite(t) || Math.abs(Math.floor(Date.now() / 1000) - t) > TOLERANCE_SECONDS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(raw).digest();
  return signatures.some((s) => s.length === expected.length && timingSafeEqual(s, expected));
}

app.post('/v1/webhooks/stripe', express.raw({ type: 'application/json', limit: '1mb' }), async (req: Request, res: Response) => {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (!verified(raw, req.get('Stripe-Signature'))) {
    res.status(400).json({ error: { code: 'signature_invalid' } });
    return;
  }
  let event: { id: string; type: string; created: number; data: { object: { id?: string; status?: string; metadata?: { payment_id?: string } } } };
  try {
    event = JSON.parse(raw.toString('utf8'));
  } catch {
    res.status(400).json({ error: { code: 'invalid_json' } });
    return;
  }
  const object = event.data?.object ?? {};
  const paymentId = object.metadata?.payment_id ?? null;
  try {
    const stored = await inTransaction(async (c) => {
      const inserted = await c.query(
        `INSERT INTO ref_webhook_events (id, type, created, object_id, payment_id, payload, state)
         VALUES ($1, $2, $3, $4, $5, $6, 'processed') ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.id, event.type, event.created, object.id ?? null, paymentId, raw.toString('utf8')],
      );
      if (inserted.rowCount === 1 && paymentId) {
        await c.query(`UPDATE ref_payments SET status = $2, updated_at = now() WHERE id = $1`, [paymentId, object.status ?? 'succeeded']);
      }
      return inserted.rowCount === 1;
    });
    res.status(200).json({ received: true, id: event.id, duplicate: !stored });
  } catch {
    res.status(500).json({ error: { code: 'internal_error' } });
  }
});

const server = app.listen(Number(process.env.PORT ?? 3100), '127.0.0.1');
server.keepAliveTimeout = 5_000;
process.on('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  void pool.end().finally(() => process.exit(0));
});
