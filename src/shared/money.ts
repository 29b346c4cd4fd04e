import currencyTable from '../../config/currencies.json';

/** Stripe's ceiling for any amount: eight digits in the minor unit. */
export const MAX_AMOUNT = 99_999_999;

export interface CurrencyRule {
  /** Digits after the decimal point: 0 for zero-decimal currencies (jpy), 3 for bhd, kwd, ... */
  exponent: number;
  /** Stripe's minimum charge, in minor units. */
  minimum: number;
  /** Amounts must be a multiple of this: 10 for three-decimal currencies, 100 for ISK (Stripe's special cases). */
  step: number;
}

const CURRENCIES: Readonly<Record<string, CurrencyRule>> = Object.freeze(currencyTable.currencies);

export const SUPPORTED_CURRENCIES = Object.freeze(Object.keys(CURRENCIES));

export function currencyRule(currency: string): CurrencyRule | undefined {
  return CURRENCIES[currency];
}

export type AmountProblem = 'currency_not_supported' | 'amount_too_small' | 'amount_too_large' | 'parameter_invalid';

/**
 * What an amount is for. Stripe's minimum charge applies to charges only; the maximum and the step
 * (three-decimal currencies end in 0, ISK in 00) apply to every amount Stripe takes: a PaymentIntent's
 * amount, a refund, a capture (https://docs.stripe.com/currencies#three-decimal, #special-cases).
 */
export type AmountUse = 'charge' | 'refund' | 'capture';

/**
 * Checks an integer minor-unit amount against the currency's rules (the one table,
 * config/currencies.json); returns the problem and a message, or null when Stripe would take it.
 * The same check guards create (schema), refunds (use case) and the mock provider.
 */
export function checkAmount(amount: number, currency: string, use: AmountUse = 'charge'): { code: AmountProblem; message: string } | null {
  const rule = CURRENCIES[currency];
  if (!rule) {
    return { code: 'currency_not_supported', message: `Currency '${currency}' is not supported` };
  }
  if (use === 'charge' && amount < rule.minimum) {
    return {
      code: 'amount_too_small',
      message: `Amount must be at least ${formatMinor(rule.minimum, currency)} (${rule.minimum} in minor units)`,
    };
  }
  if (amount < 1) {
    return { code: 'amount_too_small', message: 'Amount must be at least 1 in minor units' };
  }
  if (amount > MAX_AMOUNT) {
    return { code: 'amount_too_large', message: `Amount must be at most ${MAX_AMOUNT} in minor units` };
  }
  if (amount % rule.step !== 0) {
    return { code: 'parameter_invalid', message: `Amounts in ${currency} must be a multiple of ${rule.step}` };
  }
  return null;
}

/** Human form for messages only ("0.50 usd"); money is never computed in floats. */
export function formatMinor(amount: number, currency: string): string {
  const exponent = CURRENCIES[currency]?.exponent ?? 2;
  const sign = amount < 0 ? '-' : '';
  if (exponent === 0) return `${sign}${Math.abs(amount)} ${currency}`;
  const digits = String(Math.abs(amount)).padStart(exponent + 1, '0');
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)} ${currency}`;
}
