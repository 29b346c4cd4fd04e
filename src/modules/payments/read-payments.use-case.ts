import type { Principal } from '../../shared/auth/jwt-verifier';
import { AppError } from '../../shared/errors';
import { findVisiblePayment } from './find-payment';
import type { Payment, PaymentMove } from './payment.model';
import type { PaymentRepository } from './payment.repository';
import type { ListPaymentsQuery } from './payment.schemas';

/** The read side: one payment, a page of payments, a payment's history. */
export class ReadPaymentsUseCase {
  constructor(private readonly payments: PaymentRepository) {}

  get(id: string, actor: Principal): Promise<Payment> {
    return findVisiblePayment(this.payments, id, actor);
  }

  async history(id: string, actor: Principal): Promise<PaymentMove[]> {
    const payment = await findVisiblePayment(this.payments, id, actor);
    return this.payments.listMoves(payment.id);
  }

  async list(query: ListPaymentsQuery, actor: Principal): Promise<{ data: Payment[]; hasMore: boolean }> {
    const isAdmin = actor.role === 'admin';
    if (!isAdmin && query.user_id !== undefined && query.user_id !== actor.userId) {
      throw new AppError('permission_denied', 'Only admins may filter by user_id', { param: 'user_id' });
    }
    if (query.starting_after !== undefined) {
      // The cursor must be a payment this caller can see; otherwise the page would silently be empty.
      await findVisiblePayment(this.payments, query.starting_after, actor).catch(() => {
        throw new AppError('parameter_invalid', 'starting_after must be the id of a payment in this list', { param: 'starting_after' });
      });
    }
    return this.payments.list({
      userId: isAdmin ? query.user_id : actor.userId,
      status: query.status,
      orderId: query.order_id,
      createdGte: query.created_gte,
      createdLte: query.created_lte,
      q: query.q,
      sort: query.sort,
      limit: query.limit,
      startingAfter: query.starting_after,
    });
  }
}
