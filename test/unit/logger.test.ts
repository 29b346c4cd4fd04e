import { expect } from 'chai';
import { logger, redact, redactText } from '../../src/shared/logger';
import { tokenFor } from '../helpers/auth';

/** Luhn, independently of the code under test, to prove the fixtures are what their names say. */
function luhn(digits: string): boolean {
  const d = digits.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < d.length; i += 1) {
    let n = Number(d[d.length - 1 - i]);
    if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return sum % 10 === 0;
}

describe('logger: redactText', () => {
  const masked: Array<[string, string]> = [
    ['a Stripe test secret key', 'sk_test_51HxYzAbCdEf0123456789'],
    ['a Stripe live secret key', 'sk_live_51HxYzAbCdEf0123456789'],
    ['a restricted key', 'rk_test_abc123DEF'],
    ['a webhook secret', 'whsec_1234567890abcdefABCDEF'],
    ['a PaymentIntent client secret', 'pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH'],
    ['a SetupIntent client secret', 'seti_1Mm8s8LkdIwHu7ix0OXBfTRG_secret_NXDICkPqPeiBTAFqWmkbff09lRmSVXe'],
    ['a JWT', tokenFor('u_1')],
    ['a Luhn-valid card number', '4242424242424242'],
    ['a card number with spaces', '4242 4242 4242 4242'],
    ['a card number with dashes', '4000-0566-5566-5556'],
    ['a 15-digit Amex number', '378282246310005'],
  ];
  for (const [what, secret] of masked) {
    it(`when a message contains ${what}, then it is masked and the rest kept`, () => {
      const out = redactText(`before ${secret} after`);
      expect(out).to.equal('before [REDACTED] after');
    });
  }

  it('when the fixtures are checked, then the card numbers pass Luhn and the timestamp-like id does not', () => {
    expect(luhn('4242424242424242')).to.equal(true);
    expect(luhn('378282246310005')).to.equal(true);
    expect(luhn('20261124170512')).to.equal(false);
  });

  it('when a 14-digit timestamp-like id fails Luhn, then it is left alone', () => {
    expect(redactText('order 20261124170512 shipped')).to.equal('order 20261124170512 shipped');
  });

  it('when a message holds our ids, amounts and publishable-free text, then nothing is masked', () => {
    const text = 'payment pay_3kTqAbCdEf0123456789AbCd of 2000 usd for pi_3MtwBwLkdIwHu7ix28a3tqPa';
    expect(redactText(text)).to.equal(text);
  });
});

describe('logger: redact', () => {
  it('when keys look secret (authorization, password, client_secret, api_key), then their values are masked at any depth', () => {
    const out = redact({
      headers: { Authorization: 'Bearer abc', 'x-request-id': 'req_1' },
      user: { password: 'hunter2', name: 'Ada' },
      payment: { id: 'pay_1', client_secret: 'anything', amount: 2000 },
      api_key: 'k',
    });
    expect(out).to.deep.equal({
      headers: { Authorization: '[REDACTED]', 'x-request-id': 'req_1' },
      user: { password: '[REDACTED]', name: 'Ada' },
      payment: { id: 'pay_1', client_secret: '[REDACTED]', amount: 2000 },
      api_key: '[REDACTED]',
    });
  });

  it('when secrets sit in string values and arrays, then they are masked there too', () => {
    expect(redact({ note: 'key sk_test_abc', list: ['4242424242424242', 'ok'] })).to.deep.equal({
      note: 'key [REDACTED]',
      list: ['[REDACTED]', 'ok'],
    });
  });

  it('when an Error carries a secret in its message, then the message and the stack are both masked', () => {
    const out = redact(new Error('Stripe said no to sk_test_abc123')) as { name: string; message: string; stack: string };
    expect(out.name).to.equal('Error');
    expect(out.message).to.equal('Stripe said no to [REDACTED]');
    expect(out.stack).to.include('[REDACTED]');
    expect(out.stack).to.not.include('sk_test_abc123');
  });

  it('when an object nests deeper than 8 levels, then it is truncated instead of walked forever', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 12; i += 1) deep = { next: deep };
    expect(JSON.stringify(redact(deep))).to.include('[TRUNCATED]');
  });
});

describe('logger: the written line', () => {
  /** What winston would write for this log call, through the logger's own format. */
  function line(info: Record<string, unknown>): string {
    const out = logger.format.transform({ level: 'error', [Symbol.for('level')]: 'error', ...info } as never) as Record<symbol, string>;
    return out[Symbol.for('message')];
  }

  it('when an error with a secret is logged, then neither the message nor the stack shows it', () => {
    const text = line({ message: 'provider call failed', err: new Error('No such key: sk_test_leak123') });
    expect(text).to.not.include('sk_test_leak123');
    expect(JSON.parse(text).err.stack).to.include('[REDACTED]');
  });

  it('when an Error is logged as the message itself, then its stack is masked too', () => {
    const text = line({ message: new Error('token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzEifQ.c2lnbmF0dXJl') } as never);
    expect(text).to.not.include('eyJhbGciOiJIUzI1NiJ9');
  });

  it('when a field is named like a secret, then it is masked whatever its value', () => {
    const parsed = JSON.parse(line({ message: 'webhook', signature: 't=1,v1=abc', token: 'opaque' }));
    expect(parsed).to.include({ signature: '[REDACTED]', token: '[REDACTED]', message: 'webhook' });
  });
});
