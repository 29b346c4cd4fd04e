import { Router } from 'express';
import { z } from 'zod';
import { SIMULATION_SCENARIOS } from '../../providers/mock/mock-provider';
import { validate } from '../../shared/http/validate.middleware';
import { serializePayment } from '../payments';
import type { SimulateUseCase } from './simulate.use-case';

export const simulateSchema = z.strictObject({
  payment_id: z.string().min(1).max(100),
  scenario: z.enum(SIMULATION_SCENARIOS),
});

/** POST /v1/test/simulate: mounted only outside production (so it answers 404 there). */
export function simulateRouter(useCase: SimulateUseCase): Router {
  const router = Router();
  router.post('/simulate', validate('body', simulateSchema), async (req, res) => {
    const body = req.validated!.body as z.infer<typeof simulateSchema>;
    const result = await useCase.execute(body.payment_id, body.scenario, req.auth!);
    // 202: the events are stored and queued but were not all applied within the wait; `payment` is as it stood.
    res.status(result.applied ? 200 : 202).json({
      object: 'simulation',
      scenario: body.scenario,
      applied: result.applied,
      events: result.events,
      payment: serializePayment(result.payment, req.auth),
    });
  });
  return router;
}
