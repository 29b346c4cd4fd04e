import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { AppError, type ErrorCode } from '../errors';

type Part = 'body' | 'query' | 'params';

/** Validates one part of the request with a zod schema; the typed result goes to `req.validated[part]`. */
export function validate(part: Part, schema: z.ZodType): RequestHandler {
  return (req, _res, next) => {
    const input = part === 'body' ? (req.body ?? {}) : req[part];
    // reportInput: zod 4 leaves `issue.input` out otherwise, and "missing" could not be told from "wrong".
    const result = schema.safeParse(input, { reportInput: true });
    if (!result.success) throw toValidationError(result.error);
    req.validated = { ...req.validated, [part]: result.data };
    next();
  };
}

/**
 * The first issue decides the answer, except that an unknown field is always named first (as Stripe
 * does: a mass-assignment attempt is the problem, not the fields around it). `param` names the field
 * the way Stripe does (`metadata.key`).
 */
export function toValidationError(error: z.ZodError): AppError {
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0];
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const field = [...path, issue.keys[0]].join('.');
    return new AppError('parameter_unknown', `Received unknown parameter: ${field}`, { param: field });
  }
  const param = path.join('.') || undefined;
  const custom = issue.code === 'custom' ? (issue.params as { code?: ErrorCode } | undefined)?.code : undefined;
  if (custom) return new AppError(custom, issue.message, { param });
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return new AppError('parameter_missing', `Missing required param: ${param}`, { param });
  }
  // A record key's own rule (length, characters) says more than zod's generic "Invalid key in record".
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return new AppError('parameter_invalid', param ? `Invalid ${param}: ${message}` : message, { param });
}
