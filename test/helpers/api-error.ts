import { expect } from 'chai';
import type { Response } from 'supertest';

const ERROR_FIELDS = ['type', 'code', 'message', 'param', 'request_id'];

export interface ExpectedError {
  status: number;
  type: string;
  code: string;
  /** The field named by the error; `null` when the error must name none, left out to not check. */
  param?: string | null;
  /** Public fields allowed beside the API.md ones (e.g. `decline_code`). */
  extra?: string[];
}

/** Asserts an answer is exactly the API.md error shape: {error: {type, code, message, param?, request_id}}. */
export function expectApiError(res: Response, expected: ExpectedError): void {
  expect(res.status, res.text).to.equal(expected.status);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(res.body).to.have.all.keys('error');
  const error = res.body.error as Record<string, unknown>;
  expect(error).to.include({ type: expected.type, code: expected.code });
  expect(error.message).to.be.a('string').that.is.not.empty;
  expect(error.request_id).to.be.a('string').that.equals(res.headers['x-request-id']);
  if (expected.param === null) expect(error).to.not.have.property('param');
  else if (expected.param !== undefined) expect(error.param).to.equal(expected.param);
  const allowed = [...ERROR_FIELDS, ...(expected.extra ?? [])];
  expect(Object.keys(error).filter((k) => !allowed.includes(k))).to.deep.equal([]);
}
