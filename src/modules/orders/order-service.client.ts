import axios, { type AxiosInstance } from 'axios';
import CircuitBreaker from 'opossum';
import type { OrderServiceConfig } from '../../shared/config';
import { AppError } from '../../shared/errors';
import { createOutboundClient, isResponseCut, isResponseTooLarge } from '../../shared/http/outbound-client';
import { logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { orderSchema, type Order } from './order.schemas';

/** Where the amount of a payment comes from. */
export interface OrderLookup {
  /**
   * The order `orderId` as the order service sees it for user `userId` (sent as `X-User-Id`), or
   * null when it answers 404. Throws AppError `order_service_unavailable` (503: down, timing out,
   * 5xx after retries, circuit open) or `order_service_invalid_response` (502: a redirect, an
   * unexpected 4xx, a body that is not an order or is too large).
   */
  findOrder(orderId: string, userId: string): Promise<Order | null>;
}

type LookupResult = 'found' | 'not_found' | 'unavailable' | 'invalid_response' | 'short_circuited';
type CircuitState = 'closed' | 'open' | 'half_open';

/** Our answer is 16 KiB at most; an order is a few hundred bytes. */
const MAX_ORDER_BYTES = 16 * 1024;

class OrderServiceFault extends Error {
  constructor(
    readonly kind: 'unavailable' | 'invalid_response',
    message: string,
    options?: { cause?: unknown; aboutOneOrder?: boolean },
  ) {
    super(message, options);
    this.aboutOneOrder = options?.aboutOneOrder ?? false;
  }

  /**
   * An answer about the one order asked for (a 4xx for that id, or the record of another id): the
   * service is up and answering, and the caller chose the id, so it must not count towards opening
   * the breaker (else any customer could deny checkout to everyone with a few odd order ids).
   */
  readonly aboutOneOrder: boolean;
}

/** 4xx answers that say the service itself refuses us (our token, a proxy), not one order: they count. */
const SERVICE_WIDE_REFUSALS = [401, 403, 407];

/**
 * `GET {ORDER_SERVICE_URL}/v1/orders/{order_id}` behind a circuit breaker (opossum): each lookup has
 * a deadline over all its attempts (`timeoutMs`), GET retries with backoff and jitter on network
 * errors, timeouts and 5xx (`retries`), and once enough lookups fail the breaker opens and answers at
 * once, without a call, until `breaker.resetMs` has passed; then one trial call closes it again or
 * reopens it. A 404 is an answer, not a failure: it never opens the breaker.
 */
export class OrderServiceClient implements OrderLookup {
  readonly breaker: CircuitBreaker<[string, string], Order | null>;
  private readonly http: AxiosInstance;
  private openedAt = 0;

  constructor(
    private readonly config: OrderServiceConfig & { url: string },
    private readonly metrics: Metrics,
  ) {
    this.http = createOutboundClient({
      baseURL: config.url,
      timeoutMs: config.attemptTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      retries: config.retries,
      maxResponseBytes: MAX_ORDER_BYTES,
      headers: { Accept: 'application/json', ...(config.token ? { Authorization: `Bearer ${config.token}` } : {}) },
    });
    this.breaker = new CircuitBreaker((orderId: string, userId: string) => this.fetchOrder(orderId, userId), {
      name: 'order-service',
      // The deadline is ours (an AbortSignal per lookup), so a late lookup is also aborted, not left running.
      timeout: false,
      resetTimeout: config.breaker.resetMs,
      volumeThreshold: config.breaker.minRequests,
      errorThresholdPercentage: config.breaker.errorPercent,
      rollingCountTimeout: 10_000,
      errorFilter: (err: unknown) => err instanceof OrderServiceFault && err.aboutOneOrder,
    });
    this.breaker.on('open', () => {
      this.openedAt = Date.now();
      this.setCircuitState('open');
      logger.warn('order service circuit opened: payments with an order_id answer 503 until it closes', {
        reset_ms: config.breaker.resetMs,
      });
    });
    this.breaker.on('halfOpen', () => this.setCircuitState('half_open'));
    this.breaker.on('close', () => {
      this.setCircuitState('closed');
      logger.info('order service circuit closed');
    });
    this.setCircuitState('closed');
  }

  async findOrder(orderId: string, userId: string): Promise<Order | null> {
    const stopTimer = this.metrics.orderLookupDuration.startTimer();
    let result: LookupResult = 'unavailable';
    try {
      const order = await this.breaker.fire(orderId, userId);
      result = order ? 'found' : 'not_found';
      return order;
    } catch (err) {
      const error = this.toAppError(err);
      result = (err as { code?: string }).code === 'EOPENBREAKER' ? 'short_circuited' : (error.code === 'order_service_invalid_response' ? 'invalid_response' : 'unavailable');
      throw error;
    } finally {
      this.metrics.orderLookups.inc({ result });
      stopTimer({ result });
    }
  }

  /** Stops the breaker's timers (tests, shutdown). */
  shutdown(): void {
    this.breaker.shutdown();
  }

  private async fetchOrder(orderId: string, userId: string): Promise<Order | null> {
    let response;
    try {
      // encodeURIComponent keeps `/`, `?` and `#` inside the one path segment; "." and ".." are refused
      // at the edge (orderIdSchema), as URL parsing would resolve them.
      response = await this.http.get(`/v1/orders/${encodeURIComponent(orderId)}`, {
        headers: { 'X-User-Id': userId },
        signal: AbortSignal.timeout(this.config.timeoutMs),
        validateStatus: (status) => (status >= 200 && status < 300) || status === 404,
      });
    } catch (err) {
      throw classify(err, this.config.timeoutMs);
    }
    if (response.status === 404) return null;
    const parsed = orderSchema.safeParse(response.data);
    if (!parsed.success) {
      const problem = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      throw new OrderServiceFault('invalid_response', `The order service answered something that is not an order (${problem})`);
    }
    if (parsed.data.id !== orderId) {
      throw new OrderServiceFault('invalid_response', `The order service answered for order ${parsed.data.id}, not ${orderId}`, { aboutOneOrder: true });
    }
    return parsed.data;
  }

  private toAppError(err: unknown): AppError {
    if ((err as { code?: string }).code === 'EOPENBREAKER') {
      const left = Math.max(0, this.openedAt + this.config.breaker.resetMs - Date.now());
      return new AppError('order_service_unavailable', 'The order service is unavailable; retry later with the same Idempotency-Key', {
        cause: err,
        retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)),
      });
    }
    if (err instanceof OrderServiceFault && err.kind === 'invalid_response') {
      return new AppError('order_service_invalid_response', 'The order service gave an answer that could not be used; nothing was charged', {
        cause: err,
      });
    }
    return new AppError('order_service_unavailable', 'The order service is unavailable; retry later with the same Idempotency-Key', {
      cause: err,
    });
  }

  private setCircuitState(state: CircuitState): void {
    for (const s of ['closed', 'open', 'half_open'] as const) this.metrics.orderServiceCircuit.set({ state: s }, s === state ? 1 : 0);
  }
}

/** An axios failure as a fault of the order service: down or slow (retryable), or a broken contract. */
function classify(err: unknown, deadlineMs: number): OrderServiceFault {
  if (!axios.isAxiosError(err)) return new OrderServiceFault('unavailable', 'The order service call failed', { cause: err });
  if (isResponseTooLarge(err)) {
    return new OrderServiceFault('invalid_response', 'The order service answer was too large', { cause: err });
  }
  if (isResponseCut(err)) {
    return new OrderServiceFault('unavailable', 'The order service dropped the connection before its answer was complete', { cause: err });
  }
  const status = err.response?.status;
  if (status !== undefined) {
    if (status >= 500 || status === 429) return new OrderServiceFault('unavailable', `The order service answered HTTP ${status}`, { cause: err });
    // 3xx (redirects are never followed), 401/403 (our token refused), other 4xx: not the contract.
    return new OrderServiceFault('invalid_response', `The order service answered HTTP ${status}`, {
      cause: err,
      aboutOneOrder: status >= 400 && status < 500 && !SERVICE_WIDE_REFUSALS.includes(status),
    });
  }
  if (axios.isCancel(err) || err.config?.signal?.aborted) {
    return new OrderServiceFault('unavailable', `The order service did not answer within ${deadlineMs} ms`, { cause: err });
  }
  return new OrderServiceFault('unavailable', `The order service could not be reached (${err.code ?? err.message})`, { cause: err });
}
