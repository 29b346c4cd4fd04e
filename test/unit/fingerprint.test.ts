import { expect } from 'chai';
import { canonicalJson, requestFingerprint } from '../../src/modules/idempotency/fingerprint';

describe('idempotency fingerprint: canonical JSON', () => {
  it('when keys come in another order, then the JSON is the same, sorted', () => {
    expect(canonicalJson({ b: 1, a: 2 })).to.equal('{"a":2,"b":1}');
    expect(canonicalJson({ a: 2, b: 1 })).to.equal(canonicalJson({ b: 1, a: 2 }));
  });

  it('when objects are nested, then keys are sorted at every level', () => {
    expect(canonicalJson({ z: { y: 1, x: { b: true, a: null } }, a: 'v' })).to.equal('{"a":"v","z":{"x":{"a":null,"b":true},"y":1}}');
  });

  it('when arrays are involved, then their order is kept (it means something) and their objects are sorted', () => {
    expect(canonicalJson([2, 1])).to.equal('[2,1]');
    expect(canonicalJson([2, 1])).to.not.equal(canonicalJson([1, 2]));
    expect(canonicalJson([{ b: 1, a: 2 }])).to.equal('[{"a":2,"b":1}]');
  });

  it('when values differ only in type or presence, then the JSON differs', () => {
    expect(canonicalJson({ amount: 2000 })).to.not.equal(canonicalJson({ amount: '2000' }));
    expect(canonicalJson({ a: null })).to.not.equal(canonicalJson({}));
  });

  it('when keys and strings need escaping, then they are escaped as JSON does', () => {
    const value = { 'k"1': 'line\nbreak', emoji: '€' };
    expect(JSON.parse(canonicalJson(value))).to.deep.equal(value);
  });
});

describe('idempotency fingerprint: the request', () => {
  const body = { amount: 2000, currency: 'usd', metadata: { a: '1', b: '2' } };
  const fingerprint = requestFingerprint('POST', '/v1/payments', body);

  it('when the same request comes with reordered keys or a lowercase method, then the fingerprint is the same', () => {
    expect(requestFingerprint('post', '/v1/payments', { metadata: { b: '2', a: '1' }, currency: 'usd', amount: 2000 })).to.equal(fingerprint);
    expect(fingerprint).to.match(/^[0-9a-f]{64}$/);
  });

  it('when the method, the path or any value differs, then the fingerprint differs', () => {
    expect(requestFingerprint('PUT', '/v1/payments', body)).to.not.equal(fingerprint);
    expect(requestFingerprint('POST', '/v1/payments/pay_1/confirm', body)).to.not.equal(fingerprint);
    expect(requestFingerprint('POST', '/v1/payments', { ...body, amount: 2001 })).to.not.equal(fingerprint);
    expect(requestFingerprint('POST', '/v1/payments', { ...body, metadata: { a: '1', b: '3' } })).to.not.equal(fingerprint);
  });
});
