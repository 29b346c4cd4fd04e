import type { Transaction } from 'sequelize';
import type { Payment } from './payment.model';

/** A transaction's locked payments, by our id and by their PaymentIntent id. */
interface Locked {
  byId: Map<string, Payment>;
  byIntent: Map<string, Payment>;
}

/**
 * Payments a transaction holds FOR UPDATE, kept so its later reads of them need no statement (a
 * webhook batch locks all its payments in one SELECT, then its handlers "lock" each again). Only
 * transactions that called `start` have one. Correct because nobody else can change a row we hold
 * locked and every write of ours to a payment in such a transaction goes through
 * `PaymentRepository`, which puts the row it wrote back (`remember`): a read here is always the
 * current locked version. Keyed weakly by the transaction: it goes away with it.
 */
const locked = new WeakMap<Transaction, Locked>();

export const LockedPayments = {
  /** Starts keeping `t`'s locked payments, with `rows` (just read FOR UPDATE in `t`). */
  start(t: Transaction, rows: Payment[]): void {
    const held: Locked = locked.get(t) ?? { byId: new Map(), byIntent: new Map() };
    locked.set(t, held);
    for (const row of rows) LockedPayments.remember(t, row);
  },

  /** The locked row of payment `id` in `t`, if `t` keeps it. */
  byId(t: Transaction | undefined, id: string): Payment | undefined {
    return t ? locked.get(t)?.byId.get(id) : undefined;
  },

  /** The locked row whose PaymentIntent is `providerPaymentId` in `t`, if `t` keeps it. */
  byIntent(t: Transaction | undefined, providerPaymentId: string): Payment | undefined {
    const row = t ? locked.get(t)?.byIntent.get(providerPaymentId) : undefined;
    // An entry left from before the row's intent changed is not this intent's payment any more.
    return row && row.providerPaymentId === providerPaymentId ? row : undefined;
  },

  /** Records `row` (read FOR UPDATE or written in `t`) as `t`'s current version, when `t` keeps its rows. */
  remember(t: Transaction | undefined, row: Payment): void {
    const held = t ? locked.get(t) : undefined;
    if (!held) return;
    const before = held.byId.get(row.id);
    if (before?.providerPaymentId && before.providerPaymentId !== row.providerPaymentId) held.byIntent.delete(before.providerPaymentId);
    held.byId.set(row.id, row);
    if (row.providerPaymentId) held.byIntent.set(row.providerPaymentId, row);
  },
};
