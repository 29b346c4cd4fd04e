import { expect } from 'chai';
import { checkAmount, formatMinor, MAX_AMOUNT, SUPPORTED_CURRENCIES } from '../../src/shared/money';

describe('money: checkAmount', () => {
  const accepted: Array<[number, string]> = [
    [2000, 'usd'],
    [50, 'usd'],
    [MAX_AMOUNT, 'usd'],
    [500, 'jpy'],
    [50, 'jpy'],
    [1000, 'kwd'],
    [160, 'kwd'],
    [17500, 'huf'],
    // Stripe charges HUF and TWD in two-decimal amounts; only their payouts are whole units.
    [17550, 'huf'],
    [1650, 'twd'],
    [7000, 'isk'],
  ];
  for (const [amount, currency] of accepted) {
    it(`when ${amount} ${currency} is checked, then it is accepted`, () => {
      expect(checkAmount(amount, currency)).to.equal(null);
    });
  }

  const refused: Array<[number, string, string]> = [
    [49, 'usd', 'amount_too_small'],
    [0, 'usd', 'amount_too_small'],
    [49, 'jpy', 'amount_too_small'],
    [150, 'kwd', 'amount_too_small'],
    [MAX_AMOUNT + 1, 'usd', 'amount_too_large'],
    [MAX_AMOUNT + 1, 'jpy', 'amount_too_large'],
    [1005, 'kwd', 'parameter_invalid'],
    [7050, 'isk', 'parameter_invalid'],
    [2000, 'xyz', 'currency_not_supported'],
    [2000, 'USD', 'currency_not_supported'],
  ];
  for (const [amount, currency, code] of refused) {
    it(`when ${amount} ${currency} is checked, then ${code}`, () => {
      expect(checkAmount(amount, currency)?.code).to.equal(code);
    });
  }

  it('when an amount is below the minimum, then the message gives the minimum in both forms', () => {
    expect(checkAmount(49, 'usd')?.message).to.equal('Amount must be at least 0.50 usd (50 in minor units)');
    expect(checkAmount(49, 'jpy')?.message).to.equal('Amount must be at least 50 jpy (50 in minor units)');
  });

  it('when a three-decimal amount does not end in 0, then the message names the step', () => {
    expect(checkAmount(1005, 'kwd')?.message).to.equal('Amounts in kwd must be a multiple of 10');
  });

  it('when the currency table is read, then every code is three lowercase letters', () => {
    expect(SUPPORTED_CURRENCIES.length).to.be.greaterThan(0);
    for (const code of SUPPORTED_CURRENCIES) expect(code).to.match(/^[a-z]{3}$/);
  });
});

describe('money: formatMinor', () => {
  const cases: Array<[number, string, string]> = [
    [2000, 'usd', '20.00 usd'],
    [50, 'usd', '0.50 usd'],
    [5, 'usd', '0.05 usd'],
    [0, 'usd', '0.00 usd'],
    [99_999_999, 'usd', '999999.99 usd'],
    [500, 'jpy', '500 jpy'],
    [1005, 'kwd', '1.005 kwd'],
    [160, 'kwd', '0.160 kwd'],
    [1234, 'xyz', '12.34 xyz'],
    [-50, 'usd', '-0.50 usd'],
    [-1205, 'usd', '-12.05 usd'],
    [-500, 'jpy', '-500 jpy'],
  ];
  for (const [amount, currency, expected] of cases) {
    it(`when ${amount} ${currency} is formatted, then "${expected}"`, () => {
      expect(formatMinor(amount, currency)).to.equal(expected);
    });
  }
});

describe('money: checkAmount for refunds and captures', () => {
  it('when a KWD refund of 1005 is checked, then parameter_invalid, the same as a create of 18605', () => {
    expect(checkAmount(1005, 'kwd', 'refund')).to.deep.equal(checkAmount(18605, 'kwd'));
    expect(checkAmount(1005, 'kwd', 'refund')?.code).to.equal('parameter_invalid');
  });

  it('when a refund is below the minimum charge, then it is accepted (Stripe\'s minimum is for charges)', () => {
    expect(checkAmount(10, 'kwd', 'refund')).to.equal(null);
    expect(checkAmount(1, 'usd', 'refund')).to.equal(null);
    expect(checkAmount(1, 'usd', 'capture')).to.equal(null);
  });

  it('when an ISK refund is not whole kronur, then parameter_invalid', () => {
    expect(checkAmount(150, 'isk', 'refund')?.code).to.equal('parameter_invalid');
  });
});
