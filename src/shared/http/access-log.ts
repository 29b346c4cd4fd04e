import type { RequestHandler } from 'express';
import morgan from 'morgan';
import { logger } from '../logger';
import type { Metrics } from '../metrics';

morgan.token('request-id', (req) => (req as unknown as { id?: string }).id ?? '-');

/** morgan's access line, written through winston (so it is JSON, carries the request id, and is redacted). */
export const accessLog: RequestHandler = morgan(':method :url :status :res[content-length] :response-time ms', {
  stream: { write: (line: string) => logger.info(line.trim(), { type: 'access' }) },
  // Not even formatted when `info` is off (LOG_LEVEL=warn or error).
  skip: () => !logger.isInfoEnabled(),
});

/** Latency histogram by route template (never the raw URL, which would explode label cardinality). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    // Express resets req.baseUrl when a router is left, so remember it at the moment a route matches.
    let template = 'unmatched';
    let matched: unknown;
    Object.defineProperty(req, 'route', {
      configurable: true,
      get: () => matched,
      set: (route: { path?: unknown } | undefined) => {
        matched = route;
        if (route) template = `${req.baseUrl}${String(route.path)}`;
      },
    });
    res.on('finish', () => stop({ method: req.method, route: template, status: String(res.statusCode) }));
    next();
  };
}
