import type { Transaction } from 'sequelize';
import type { Sql } from '../../shared/db/sql';
import type { MoveSource, PaymentStatus } from './payment-status';

/** A history row waiting in a holding transaction for `HeldMoves.flush`. */
export interface HeldMove {
  paymentId: string;
  from: PaymentStatus | null;
  to: PaymentStatus;
  source: MoveSource;
  eventId: string | null;
}

/** Transactions whose history rows wait for one flush (see `hold`), in insert order. */
const held = new WeakMap<Transaction, HeldMove[]>();

/**
 * History rows a transaction keeps back so they are written by one multi-row statement (a webhook
 * batch). Keyed weakly by the transaction: what a rolled-back transaction held goes away with it.
 */
export const HeldMoves = {
  /** From now on `keep` holds `t`'s history rows until `flush`. */
  hold(t: Transaction): void {
    if (!held.has(t)) held.set(t, []);
  },

  /** Keeps `move` back when `t` is holding; false when it is not (write it now). */
  keep(t: Transaction, move: HeldMove): boolean {
    const holding = held.get(t);
    if (!holding) return false;
    holding.push(move);
    return true;
  },

  /** Writes the rows `t` held in one statement, ids ascending in insert order, and stops holding. */
  async flush(sql: Sql, t: Transaction): Promise<void> {
    const moves = held.get(t) ?? [];
    held.delete(t);
    if (moves.length === 0) return;
    await sql.exec(
      `INSERT INTO payment_status_history (payment_id, from_status, to_status, source, event_id)
       SELECT v.payment_id, v.from_status, v.to_status, v.source, v.event_id
         FROM unnest(ARRAY[:paymentIds]::text[], ARRAY[:froms]::text[], ARRAY[:tos]::text[], ARRAY[:sources]::text[], ARRAY[:eventIds]::text[])
              WITH ORDINALITY AS v(payment_id, from_status, to_status, source, event_id, ord)
        ORDER BY v.ord`,
      {
        paymentIds: moves.map((m) => m.paymentId),
        froms: moves.map((m) => m.from),
        tos: moves.map((m) => m.to),
        sources: moves.map((m) => m.source),
        eventIds: moves.map((m) => m.eventId),
      },
      t,
    );
  },
};
