import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';

/**
 * A pacer for calls to the payment provider: each call of the returned function waits for the next
 * token, one per 1/`requestsPerSecond` seconds (rate-limiter-flexible's queue waits instead of
 * refusing), so calls are spaced evenly rather than in bursts. `requestsPerSecond` <= 0: unpaced.
 * The pace is per returned function (per process); share the function to share the pace.
 */
export function providerPacer(requestsPerSecond: number): () => Promise<void> {
  if (requestsPerSecond <= 0) return async () => {};
  const queue = new RateLimiterQueue(new RateLimiterMemory({ points: 1, duration: 1 / requestsPerSecond }));
  return async () => {
    await queue.removeTokens(1);
  };
}
