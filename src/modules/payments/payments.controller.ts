import type { Request, Response } from 'express';
import type { HandlerResult } from '../idempotency';
import type { IdempotencyRecord, PendingKey } from '../idempotency';
import type { CancelPaymentUseCase } from './cancel-payment.use-case';
import type { ConfirmPaymentUseCase } from './confirm-payment.use-case';
import type { CreatePaymentUseCase } from './create-payment.use-case';
import type { Payment } from './payment.model';
import type { ConfirmPaymentBody, CreatePaymentBody, ListPaymentsQuery } from './payment.schemas';
import { serializeMove, serializePayment } from './payment.serializer';
import type { ReadPaymentsUseCase } from './read-payments.use-case';

/** HTTP in, use case, HTTP out. No business rules here. */
export class PaymentsController {
  constructor(
    private readonly useCases: {
      create: CreatePaymentUseCase;
      confirm: ConfirmPaymentUseCase;
      cancel: CancelPaymentUseCase;
      read: ReadPaymentsUseCase;
    },
  ) {}

  create = async (req: Request, key?: PendingKey): Promise<HandlerResult> => {
    const body = req.validated!.body as CreatePaymentBody;
    const answer = (payment: Payment, created: boolean) => ({ status: created ? 201 : 200, body: serializePayment(payment, req.auth) });
    const { payment, created } = await this.useCases.create.execute(body, req.auth!, key, answer);
    return answer(payment, created);
  };

  confirm = async (req: Request, idem?: IdempotencyRecord): Promise<HandlerResult> => {
    const body = req.validated!.body as ConfirmPaymentBody;
    const answer = (p: Payment) => ({ status: 200, body: serializePayment(p, req.auth) });
    return answer(await this.useCases.confirm.execute(String(req.params.id), body.payment_method, req.auth!, idem, answer));
  };

  cancel = async (req: Request, idem?: IdempotencyRecord): Promise<HandlerResult> => {
    const answer = (p: Payment) => ({ status: 200, body: serializePayment(p, req.auth) });
    return answer(await this.useCases.cancel.execute(String(req.params.id), req.auth!, idem, answer));
  };

  get = async (req: Request, res: Response): Promise<void> => {
    const payment = await this.useCases.read.get(String(req.params.id), req.auth!);
    res.json(serializePayment(payment, req.auth));
  };

  list = async (req: Request, res: Response): Promise<void> => {
    const page = await this.useCases.read.list(req.validated!.query as ListPaymentsQuery, req.auth!);
    res.json({ object: 'list', data: page.data.map((p) => serializePayment(p, req.auth)), has_more: page.hasMore });
  };

  history = async (req: Request, res: Response): Promise<void> => {
    const moves = await this.useCases.read.history(String(req.params.id), req.auth!);
    res.json({ object: 'list', data: moves.map(serializeMove), has_more: false });
  };
}
