import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import type { Container } from './container';
import { buildOpenApiDocument } from './modules/docs/openapi';
import { createCheckoutModule } from './modules/checkout';
import { healthRouter } from './modules/health/health.routes';
import { simulateRouter } from './modules/simulate/simulate.routes';
import { authenticate, requireAdmin } from './shared/auth/authenticate.middleware';
import { accessLog, httpMetrics } from './shared/http/access-log';
import { parseJson, requireJsonContentType } from './shared/http/body-parsing';
import { errorHandler, routeNotFound } from './shared/http/error-handler';
import { rateLimit } from './shared/http/rate-limit.middleware';
import { requestId } from './shared/http/request-id.middleware';

/** The HTTP app, without listen(): tests boot it in-process on port 0. */
export function createApp(c: Container): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use(requestId);
  app.use(httpMetrics(c.metrics));
  app.use(accessLog);
  app.use(helmet());
  app.use(cors({ origin: c.config.corsOrigins.length > 0 ? c.config.corsOrigins : false }));

  app.use(healthRouter(c));
  const openApi = buildOpenApiDocument(c.config);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' } }));

  const checkout = createCheckoutModule(c);
  app.use(checkout.router);
  if (checkout.demoTokenRouter) app.use('/v1/test', checkout.demoTokenRouter);

  // Before any JSON parser: Stripe signs the raw bytes.
  app.use('/v1/webhooks', c.webhooks.router);

  // In production the simulator does not exist, with or without a token.
  if (!c.simulate) app.use('/v1/test', routeNotFound);

  app.use('/v1', requireJsonContentType, parseJson);
  app.use('/v1', authenticate(c.verifier), rateLimit(c.config.rateLimitPerMinute, c.redis));
  app.use('/v1/payments/:id/refunds', c.refunds.router);
  app.use('/v1/payments', c.payments.router);
  app.use('/v1/payment-methods', c.paymentMethods.router);
  app.use('/v1/admin', requireAdmin);
  app.use('/v1/admin/webhook-events', c.webhooks.adminRouter);
  app.use('/v1/admin/event-deliveries', c.events.adminRouter);
  app.use('/v1/admin/analytics', c.analytics.router);
  if (c.simulate) app.use('/v1/test', simulateRouter(c.simulate));

  app.use(routeNotFound);
  app.use(errorHandler);
  return app;
}
