import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import axios, { type AxiosError, type AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';

/** What every call from this service to another HTTP service gets (the order service, event webhooks). */
export interface OutboundClientOptions {
  baseURL?: string;
  /** One attempt, ms: from the request until the response headers (axios's wall-clock timer), then between body chunks. */
  timeoutMs: number;
  /** The TCP connect of one attempt, ms (default: the smaller of 1000 and `timeoutMs`). */
  connectTimeoutMs?: number;
  /** The largest response body accepted, bytes (default 64 KiB): a bigger answer is an error, not memory spent. */
  maxResponseBytes?: number;
  /** The largest request body sent, bytes (default 1 MiB). */
  maxRequestBytes?: number;
  headers?: Record<string, string>;
  /**
   * Retries of GET and HEAD only (safe methods, RFC 9110 §9.2.1) on network errors, timeouts and 5xx,
   * never on 4xx, with exponential backoff (100 ms, 200 ms, ...) plus up to 20 % jitter. Default 0:
   * the caller decides (the outbox has its own retry policy for POST and PATCH).
   */
  retries?: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * An axios instance with the house rules for outbound HTTP: a connect timeout and a per-attempt
 * timeout, keep-alive sockets, redirects never followed (`maxRedirects: 0`: a 3xx is an error, so a
 * compromised or misconfigured service cannot send our token or our traffic elsewhere), bounded
 * request and response bodies, and only 2xx counted as success. Callers pass an AbortSignal for a
 * deadline over all attempts.
 */
export function createOutboundClient(options: OutboundClientOptions): AxiosInstance {
  const connectTimeoutMs = options.connectTimeoutMs ?? Math.min(1_000, options.timeoutMs);
  const client = axios.create({
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    maxRedirects: 0,
    maxContentLength: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    maxBodyLength: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    validateStatus: (status) => status >= 200 && status < 300,
    headers: options.headers,
    httpAgent: new ConnectTimeoutHttpAgent(connectTimeoutMs),
    httpsAgent: new ConnectTimeoutHttpsAgent(connectTimeoutMs),
  });
  if (options.retries && options.retries > 0) {
    axiosRetry(client, {
      retries: options.retries,
      retryDelay: axiosRetry.exponentialDelay,
      // Each attempt gets its full timeout; the caller's AbortSignal bounds the whole.
      shouldResetTimeout: true,
      retryCondition: isRetryableSafeRequest,
    });
  }
  return client;
}

/** A GET or HEAD that failed in a way another attempt may not: no answer, a timeout, or a 5xx. */
export function isRetryableSafeRequest(err: AxiosError): boolean {
  const method = err.config?.method?.toLowerCase();
  if (method !== 'get' && method !== 'head') return false;
  if (axios.isCancel(err) || err.config?.signal?.aborted) return false; // the caller's deadline: stop
  if (isResponseTooLarge(err)) return false;
  if (isResponseCut(err)) return true; // the connection dropped mid-body: a network fault like any other
  if (err.response) return err.response.status >= 500;
  // Refusals of our own making (a body too large, a bad option) are not worth another attempt.
  return err.code !== 'ERR_BAD_RESPONSE' && err.code !== 'ERR_BAD_OPTION_VALUE' && err.code !== 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED';
}

/** The answer was over `maxResponseBytes` (axios gives it no code of its own: ERR_BAD_RESPONSE with this message). */
export function isResponseTooLarge(err: AxiosError): boolean {
  return err.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(err.message);
}

/**
 * The status was one the caller accepts but the body never arrived whole: the connection was cut
 * half-way ("stream has been aborted"; axios attaches the response, so it looks like an answer). It is
 * a network fault, not an answer: retryable for a safe request, never a broken contract.
 */
export function isResponseCut(err: AxiosError): boolean {
  if (err.code !== 'ERR_BAD_RESPONSE' || !err.response || isResponseTooLarge(err)) return false;
  const accepts = err.config?.validateStatus ?? ((status: number) => status >= 200 && status < 300);
  return accepts(err.response.status);
}

/** Bounds the TCP connect, which neither Node nor axios does on its own (Node waits for the OS, ~2 min). */
function armConnectTimeout(socket: Socket, ms: number): Socket {
  if (!socket.connecting) return socket;
  const timer = setTimeout(() => {
    socket.destroy(Object.assign(new Error(`connect ETIMEDOUT after ${ms} ms`), { code: 'ETIMEDOUT' }));
  }, ms);
  const clear = () => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
  return socket;
}

class ConnectTimeoutHttpAgent extends http.Agent {
  constructor(private readonly connectTimeoutMs: number) {
    super({ keepAlive: true });
  }

  override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
    return armConnectTimeout(super.createConnection(...args) as Socket, this.connectTimeoutMs);
  }
}

class ConnectTimeoutHttpsAgent extends https.Agent {
  constructor(private readonly connectTimeoutMs: number) {
    super({ keepAlive: true });
  }

  override createConnection(...args: Parameters<https.Agent['createConnection']>): ReturnType<https.Agent['createConnection']> {
    return armConnectTimeout(super.createConnection(...args) as Socket, this.connectTimeoutMs);
  }
}
