import winston from 'winston';
import { currentRequestId } from './request-context';

const SECRET_KEY_PATTERN = /(authorization|password|secret|token|api[_-]?key|signature|cookie|card[_-]?number|cvc)/i;
// Stripe keys, client secrets, webhook secrets, JWTs and 13-19 digit card-like numbers.
const SECRET_VALUE_PATTERNS: RegExp[] = [
  /\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]+/g,
  /\bwhsec_[A-Za-z0-9_]+/g,
  /\bpi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+/g,
  /\bseti_[A-Za-z0-9]+_secret_[A-Za-z0-9]+/g,
  /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
];
const CARD_LIKE = /\b(?:\d[ -]?){12,18}\d\b/g;

/** Luhn check, so ids and timestamps that merely have many digits are not mistaken for card numbers. */
function passesLuhn(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Masks secrets in free text: used on every log message and string field. */
export function redactText(text: string): string {
  const masked = SECRET_VALUE_PATTERNS.reduce((acc, pattern) => acc.replace(pattern, '[REDACTED]'), text);
  return masked.replace(CARD_LIKE, (match) => (passesLuhn(match) ? '[REDACTED]' : match));
}

/** Deep copy of `value` with secret-looking keys and values masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[TRUNCATED]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  // The stack's first line repeats the message, so it is masked too.
  if (value instanceof Error) return { name: value.name, message: redactText(value.message), stack: value.stack && redactText(value.stack) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY_PATTERN.test(key) && v != null ? '[REDACTED]' : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

const redactFormat = winston.format((info) => {
  const requestId = currentRequestId();
  if (requestId && !info.request_id) info.request_id = requestId;
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    const v = info[key];
    info[key] = SECRET_KEY_PATTERN.test(key) && v != null ? '[REDACTED]' : redact(v);
  }
  return info;
});

/**
 * Drops an entry whose level is off before any other format runs. winston 3 runs the whole format
 * chain (timestamp, redaction, JSON) for every entry and only then lets the transport filter by
 * level, so without this every discarded debug line (one per SQL statement) was still redacted and
 * serialised. `logger` is read when an entry is logged, by then it exists.
 */
const levelGate = winston.format((info) => (logger.isLevelEnabled(info.level) ? info : false));

export const logger = winston.createLogger({
  level: process.env.LOG_LEVEL ?? 'info',
  format: winston.format.combine(
    levelGate(),
    winston.format.timestamp(),
    winston.format.errors({ stack: true }),
    redactFormat(),
    winston.format.json(),
  ),
  defaultMeta: { service: 'payments-service' },
  transports: [new winston.transports.Console({ silent: process.env.LOG_SILENT === 'true' })],
});

export type Logger = typeof logger;
