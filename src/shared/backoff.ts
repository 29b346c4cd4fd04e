const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60 * 60 * 1_000;

/**
 * Exponential backoff with jitter for the n-th failed attempt: about 1 s, 2 s, 4 s ... capped at an
 * hour, each drawn from the upper half of its window so retries of many items spread out.
 */
export function nextAttemptDelay(attempts: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
