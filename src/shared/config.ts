import cron from 'node-cron';
import { z } from 'zod';

/** Used only outside production, so a laptop works with no setup; production refuses to start with it. */
export const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-do-not-use-in-production';
/** Signs the events we send to EVENT_WEBHOOK_URLS outside production. */
export const DEV_EVENT_WEBHOOK_SECRET = 'dev-only-insecure-event-signing-secret';
/** Signs the mock provider's events (and the Stripe CLI's, if you pass it) outside production. */
export const DEV_WEBHOOK_SECRET = 'whsec_dev_only_insecure_local_secret';

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));

const commaList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));

/** A node-cron expression (5 fields, or 6 with seconds first), checked with node-cron's own validate. */
const cronExpression = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((v) => cron.validate(v), { message: 'not a valid cron expression (node-cron syntax, e.g. "*/5 * * * *")' });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: optionalString,
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),

  DATABASE_URL: optionalString,
  DATA_DIR: z.string().default('./data'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  DB_SSL: bool(false),
  REDIS_URL: optionalString,

  PAYMENT_PROVIDER: z.enum(['stripe', 'mock']).optional(),
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_PUBLISHABLE_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: commaList,
  STRIPE_API_URL: z.url().optional(),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  STRIPE_ACCOUNT_ID: z
    .string()
    .trim()
    .regex(/^acct_[A-Za-z0-9]+$/, 'must be a Stripe account id (acct_...)')
    .optional(),

  MOCK_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  MOCK_SUCCESS_RATE: z.coerce.number().min(0).max(1).default(1),

  JWT_SECRET: optionalString,
  JWT_PUBLIC_KEY: optionalString,
  JWT_JWKS_URL: z.url().optional(),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,

  // A base URL the lookup path is appended to: http(s) only, no query or fragment (else every lookup fails at run time).
  ORDER_SERVICE_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => !new URL(url).search && !new URL(url).hash, 'must be an http(s) base URL without a query or fragment')
    .optional(),
  ORDER_SERVICE_TOKEN: optionalString,
  ORDER_SERVICE_REQUIRED: bool(false),
  ORDER_SERVICE_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(3_000),
  ORDER_SERVICE_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  ORDER_SERVICE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  ORDER_SERVICE_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  ORDER_SERVICE_BREAKER_MIN_REQUESTS: z.coerce.number().int().min(1).max(1000).default(5),
  ORDER_SERVICE_BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(99).default(50),
  ORDER_SERVICE_BREAKER_RESET_MS: z.coerce.number().int().min(10).max(600_000).default(30_000),
  EVENT_WEBHOOK_URLS: commaList,
  EVENT_WEBHOOK_SECRET: optionalString,
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  OUTBOX_WORKER_INTERVAL_MS: z.coerce.number().int().min(10).default(500),
  OUTBOX_TARGET_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  EVENT_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  RECONCILE_MIN_AGE_SECONDS: z.coerce.number().int().min(0).default(600),
  RECONCILE_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  RECONCILE_MAX_PROVIDER_RPS: z.coerce.number().min(0.1).max(1000).default(20),
  CORS_ORIGINS: commaList,

  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  IDEMPOTENCY_LOCK_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).default(24),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  WEBHOOK_WORKER_INTERVAL_MS: z.coerce.number().int().min(10).default(500),
  JOBS_ENABLED: bool(true),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
  MIGRATE_ON_START: bool(true),
  JOB_RECONCILE_CRON: cronExpression('*/5 * * * *'),
  JOB_PURGE_IDEMPOTENCY_CRON: cronExpression('17 * * * *'),
  JOB_LOCK: z.enum(['auto', 'postgres', 'redis']).default('auto'),
  JOB_LOCK_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  CHECKOUT_PAGE_ENABLED: z.enum(['true', 'false', '1', '0']).optional(),
  JOB_CATCH_UP_EVENTS_CRON: cronExpression('*/15 * * * *'),
  CATCH_UP_SCOPE: z.enum(['undelivered', 'all']).default('undelivered'),
  CATCH_UP_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  CATCH_UP_MAX_EVENTS: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
  CATCH_UP_REQUESTS_PER_SECOND: z.coerce.number().min(0).max(100).default(10),
});

export type Env = z.infer<typeof envSchema>;

/** The service's configuration: parsed once from the environment, validated, frozen. */
export interface Config {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  port: number;
  host: string;
  publicUrl?: string;
  logLevel: Env['LOG_LEVEL'];
  database: {
    /** Unset means the embedded PGlite database under `dataDir`. */
    url?: string;
    dataDir: string;
    poolMax: number;
    ssl: boolean;
  };
  /** Unset means in-process stand-ins (one instance only). */
  redisUrl?: string;
  provider: 'stripe' | 'mock';
  stripe: {
    secretKey?: string;
    publishableKey?: string;
    /** Several secrets are accepted at once, so one can be rolled without losing events. */
    webhookSecrets: string[];
    apiUrl?: string;
    timeoutMs: number;
    maxNetworkRetries: number;
    webhookToleranceSeconds: number;
    /**
     * Whether provider events must be live-mode ones: true for an `sk_live_`/`rk_live_` key, false
     * for a test key and for the mock provider. Events of the other mode are stored and ignored.
     */
    livemode: boolean;
    /**
     * The Stripe account whose events are ours (`STRIPE_ACCOUNT_ID`). Events carrying another
     * `account` (Connect events of other accounts) are stored and ignored; unset, every event that
     * carries an `account` is.
     */
    accountId?: string;
  };
  mock: { latencyMs: number; successRate: number };
  jwt: { secret?: string; publicKey?: string; jwksUrl?: string; issuer?: string; audience?: string };
  orderServiceUrl?: string;
  /** The amount lookup (`GET {url}/v1/orders/{id}`); its `url` is `orderServiceUrl`. */
  orderService: OrderServiceConfig;
  eventWebhookUrls: string[];
  /** Signs `Payments-Signature` on events sent to `eventWebhookUrls`. */
  eventWebhookSecret?: string;
  /**
   * `targetConcurrency`: deliveries of one target in flight at once (each for a different payment);
   * `deliveryTimeoutMs`: one HTTP try to a target (three tries per attempt).
   */
  outbox: { maxAttempts: number; workerIntervalMs: number; targetConcurrency: number; deliveryTimeoutMs: number };
  /**
   * The reconcile job: open payments and pending refunds idle `minAgeSeconds` are re-read from the
   * provider, `batchSize` of each per run, at most `maxProviderRps` provider calls per second
   * (Stripe allows 25/s in test mode, 100/s live: https://docs.stripe.com/rate-limits).
   */
  reconcile: { minAgeSeconds: number; batchSize: number; maxProviderRps: number };
  corsOrigins: string[];
  /** Requests per minute per user (or per IP when anonymous); 0 turns the limiter off. */
  rateLimitPerMinute: number;
  idempotency: { lockTimeoutMs: number; ttlHours: number };
  webhooks: { maxAttempts: number; workerIntervalMs: number };
  jobsEnabled: boolean;
  shutdownTimeoutMs: number;
  /** False: the replicas do not migrate; a migration Job (k8s/migrate-job.yaml) does it before the rollout. */
  migrateOnStart: boolean;
  jobs: {
    /** node-cron expressions (validated at start-up). */
    reconcileCron: string;
    purgeIdempotencyCron: string;
    /** `auto`: a Redis lock when REDIS_URL is set, else a PostgreSQL advisory lock (in-process on the embedded database). */
    lock: 'auto' | 'postgres' | 'redis';
    /** Lease of a Redis job lock, ms: renewed while the job runs, so it only lapses when its holder died. */
    lockLeaseMs: number;
  };
  /** Serve the demo checkout page at /checkout: on outside production, off in production unless CHECKOUT_PAGE_ENABLED. */
  checkoutPageEnabled: boolean;
  /** The catch-up of provider events the webhook never received (job `catch-up-events`). */
  catchUp: {
    cron: string;
    /** `undelivered`: Stripe's `delivery_success=false` only; `all`: every event in the window. */
    scope: 'undelivered' | 'all';
    /** Seconds listed again before the last finished pass (events appear in the list late, clocks differ). */
    overlapSeconds: number;
    /** New events stored per run at most; the rest is listed by the next run. */
    maxEvents: number;
    /** GET /v1/events requests per second at most; 0: no pacing. */
    requestsPerSecond: number;
  };
}

/** How the order service is called for the amount of a payment (issue #9). All durations in ms. */
export interface OrderServiceConfig {
  url?: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** ORDER_SERVICE_REQUIRED: refuse to start without ORDER_SERVICE_URL. */
  required: boolean;
  /** The whole lookup, retries and backoff included: the most a create waits for the order service. */
  timeoutMs: number;
  /** One attempt, from the request until the response headers (and then between body chunks). */
  attemptTimeoutMs: number;
  /** The TCP connect of one attempt. */
  connectTimeoutMs: number;
  /** Retries of the GET on network errors, timeouts and 5xx (never on 4xx), with exponential backoff and jitter. */
  retries: number;
  /** Circuit breaker: it opens when at least `minRequests` lookups in a 10 s window failed more than `errorPercent` %. */
  breaker: { minRequests: number; errorPercent: number; resetMs: number };
}

export class ConfigError extends Error {}

/** Parses `source` (default `process.env`); throws a ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(withoutEmptyValues(source));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';
  const provider = env.PAYMENT_PROVIDER ?? (env.STRIPE_SECRET_KEY ? 'stripe' : 'mock');
  const usesKeyPair = Boolean(env.JWT_PUBLIC_KEY || env.JWT_JWKS_URL);

  const webhookSecrets =
    env.STRIPE_WEBHOOK_SECRET.length > 0 || isProduction ? env.STRIPE_WEBHOOK_SECRET : [DEV_WEBHOOK_SECRET];

  const config: Config = {
    env: env.NODE_ENV,
    isProduction,
    port: env.PORT,
    host: env.HOST,
    publicUrl: env.PUBLIC_URL,
    logLevel: env.LOG_LEVEL,
    database: { url: env.DATABASE_URL, dataDir: env.DATA_DIR, poolMax: env.DB_POOL_MAX, ssl: env.DB_SSL },
    redisUrl: env.REDIS_URL,
    provider,
    stripe: {
      secretKey: env.STRIPE_SECRET_KEY,
      publishableKey: env.STRIPE_PUBLISHABLE_KEY,
      webhookSecrets,
      apiUrl: env.STRIPE_API_URL,
      timeoutMs: env.STRIPE_TIMEOUT_MS,
      maxNetworkRetries: env.STRIPE_MAX_NETWORK_RETRIES,
      webhookToleranceSeconds: env.WEBHOOK_TOLERANCE_SECONDS,
      livemode: provider === 'stripe' && /^(sk|rk)_live_/.test(env.STRIPE_SECRET_KEY ?? ''),
      accountId: env.STRIPE_ACCOUNT_ID,
    },
    mock: { latencyMs: env.MOCK_LATENCY_MS, successRate: env.MOCK_SUCCESS_RATE },
    jwt: {
      secret: env.JWT_SECRET ?? (isProduction || usesKeyPair ? undefined : DEV_JWT_SECRET),
      publicKey: env.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
    },
    orderServiceUrl: env.ORDER_SERVICE_URL,
    orderService: {
      url: env.ORDER_SERVICE_URL,
      token: env.ORDER_SERVICE_TOKEN,
      required: env.ORDER_SERVICE_REQUIRED,
      timeoutMs: env.ORDER_SERVICE_TIMEOUT_MS,
      attemptTimeoutMs: env.ORDER_SERVICE_ATTEMPT_TIMEOUT_MS,
      connectTimeoutMs: env.ORDER_SERVICE_CONNECT_TIMEOUT_MS,
      retries: env.ORDER_SERVICE_RETRIES,
      breaker: {
        minRequests: env.ORDER_SERVICE_BREAKER_MIN_REQUESTS,
        errorPercent: env.ORDER_SERVICE_BREAKER_ERROR_PERCENT,
        resetMs: env.ORDER_SERVICE_BREAKER_RESET_MS,
      },
    },
    eventWebhookUrls: env.EVENT_WEBHOOK_URLS,
    eventWebhookSecret: env.EVENT_WEBHOOK_SECRET ?? (isProduction ? undefined : DEV_EVENT_WEBHOOK_SECRET),
    outbox: {
      maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
      workerIntervalMs: env.OUTBOX_WORKER_INTERVAL_MS,
      targetConcurrency: env.OUTBOX_TARGET_CONCURRENCY,
      deliveryTimeoutMs: env.EVENT_DELIVERY_TIMEOUT_MS,
    },
    reconcile: {
      minAgeSeconds: env.RECONCILE_MIN_AGE_SECONDS,
      batchSize: env.RECONCILE_BATCH_SIZE,
      maxProviderRps: env.RECONCILE_MAX_PROVIDER_RPS,
    },
    corsOrigins: env.CORS_ORIGINS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    idempotency: { lockTimeoutMs: env.IDEMPOTENCY_LOCK_TIMEOUT_MS, ttlHours: env.IDEMPOTENCY_TTL_HOURS },
    webhooks: { maxAttempts: env.WEBHOOK_MAX_ATTEMPTS, workerIntervalMs: env.WEBHOOK_WORKER_INTERVAL_MS },
    jobsEnabled: env.JOBS_ENABLED,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    migrateOnStart: env.MIGRATE_ON_START,
    jobs: {
      reconcileCron: env.JOB_RECONCILE_CRON,
      purgeIdempotencyCron: env.JOB_PURGE_IDEMPOTENCY_CRON,
      lock: env.JOB_LOCK,
      lockLeaseMs: env.JOB_LOCK_LEASE_MS,
    },
    checkoutPageEnabled: env.CHECKOUT_PAGE_ENABLED ? ['true', '1'].includes(env.CHECKOUT_PAGE_ENABLED) : !isProduction,
    catchUp: {
      cron: env.JOB_CATCH_UP_EVENTS_CRON,
      scope: env.CATCH_UP_SCOPE,
      overlapSeconds: env.CATCH_UP_OVERLAP_SECONDS,
      maxEvents: env.CATCH_UP_MAX_EVENTS,
      requestsPerSecond: env.CATCH_UP_REQUESTS_PER_SECOND,
    },
  };

  if (config.jobs.lock === 'redis' && !config.redisUrl) {
    throw new ConfigError('JOB_LOCK=redis needs REDIS_URL');
  }
  if (provider === 'stripe' && !config.stripe.secretKey) {
    throw new ConfigError('PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY');
  }
  if (config.orderService.required && !config.orderService.url) {
    throw new ConfigError('ORDER_SERVICE_REQUIRED=true needs ORDER_SERVICE_URL (the amount of a payment comes from the order)');
  }
  // The key's mode decides which events are ours (livemode); a key of neither mode cannot say.
  if (provider === 'stripe' && !/^(sk|rk)_(test|live)_/.test(config.stripe.secretKey ?? '')) {
    throw new ConfigError('STRIPE_SECRET_KEY must be a secret or restricted key (sk_test_, sk_live_, rk_test_ or rk_live_)');
  }
  if (isProduction) assertProductionReady(config, env);
  return Object.freeze(config);
}

/**
 * Settings that start but carry a risk worth a warning at start-up (logged by main.ts), one
 * sentence each. Empty when there is nothing to say.
 */
export function configWarnings(config: Readonly<Config>): string[] {
  const warnings: string[] = [];
  if (config.isProduction && !config.orderService.url) {
    warnings.push(
      'ORDER_SERVICE_URL is not set: POST /v1/payments trusts the amount and currency sent by the client, so anyone holding a customer token can pay an order any amount; set ORDER_SERVICE_URL (and ORDER_SERVICE_REQUIRED=true to make it mandatory)',
    );
  }
  return warnings;
}

/**
 * `PORT=` (an empty line in a .env or compose file) means unset, as it does for the string settings:
 * coerced, it would silently become 0 (a random port, or RATE_LIMIT_PER_MINUTE=0: no rate limit).
 */
function withoutEmptyValues(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value.trim() !== ''));
}

function assertProductionReady(config: Config, env: Env): void {
  const missing: string[] = [];
  if (!config.database.url) missing.push('DATABASE_URL (the embedded database is for development only)');
  if (config.provider !== 'stripe') missing.push('STRIPE_SECRET_KEY (the mock provider is refused in production)');
  if (config.stripe.webhookSecrets.length === 0) missing.push('STRIPE_WEBHOOK_SECRET');
  if (!config.jwt.secret && !config.jwt.publicKey && !config.jwt.jwksUrl) {
    missing.push('JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL');
  }
  if (env.JWT_SECRET === DEV_JWT_SECRET) missing.push('JWT_SECRET (the development secret is refused)');
  if (config.eventWebhookUrls.length > 0 && (!config.eventWebhookSecret || config.eventWebhookSecret === DEV_EVENT_WEBHOOK_SECRET)) {
    missing.push('EVENT_WEBHOOK_SECRET (EVENT_WEBHOOK_URLS are set; events must be signed)');
  }
  if (env.JWT_SECRET && env.JWT_SECRET.length < 32) missing.push('JWT_SECRET (at least 32 characters)');
  if (config.stripe.webhookSecrets.includes(DEV_WEBHOOK_SECRET)) {
    missing.push('STRIPE_WEBHOOK_SECRET (the development secret is refused)');
  }
  if (missing.length > 0) {
    throw new ConfigError(`Refusing to start in production: set ${missing.join('; ')}`);
  }
}
