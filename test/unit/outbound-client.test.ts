import { expect } from 'chai';
import nock from 'nock';
import { createDeliveryClient } from '../../src/modules/events/targets/http.targets';
import { createOutboundClient } from '../../src/shared/http/outbound-client';

const HOST = 'http://service.example.test';

describe('createOutboundClient (shared by the order lookup and the event targets)', () => {
  afterEach(() => nock.cleanAll());

  it('when the service answers a redirect, then it is an error and the Location is never requested', async () => {
    const elsewhere = nock('http://elsewhere.example.test').get('/x').reply(200, 'followed').post('/x').reply(200, 'followed');
    nock(HOST).get('/a').reply(301, '', { Location: 'http://elsewhere.example.test/x' }).post('/b').reply(307, '', { Location: 'http://elsewhere.example.test/x' });
    const client = createOutboundClient({ timeoutMs: 1000 });
    const get = await client.get(`${HOST}/a`).then(() => 'resolved', (err) => err.response?.status);
    const post = await client.post(`${HOST}/b`, { a: 1 }).then(() => 'resolved', (err) => err.response?.status);
    expect([get, post]).to.deep.equal([301, 307]);
    expect(elsewhere.pendingMocks()).to.have.length(2);
  });

  it('when a response body is over the bound, then it is refused', async () => {
    nock(HOST).get('/big').reply(200, 'x'.repeat(2048));
    const client = createOutboundClient({ timeoutMs: 1000, maxResponseBytes: 1024 });
    const err = await client.get(`${HOST}/big`).then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/maxContentLength/);
  });

  it('when a request body is over the bound, then it is not sent', async () => {
    const receiver = nock(HOST).post('/in').reply(204);
    const client = createOutboundClient({ timeoutMs: 1000, maxRequestBytes: 100 });
    const err = await client.post(`${HOST}/in`, 'y'.repeat(500)).then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/maxBodyLength|body length/i);
    expect(receiver.isDone()).to.equal(false);
  });

  it('when retries are on, then a GET is retried on 5xx but not on 4xx, and a POST is never retried', async () => {
    const client = createOutboundClient({ timeoutMs: 1000, retries: 2 });
    const get = nock(HOST).get('/g').reply(502).get('/g').reply(200, { ok: true });
    expect((await client.get(`${HOST}/g`)).data).to.deep.equal({ ok: true });
    expect(get.isDone()).to.equal(true);

    const notFound = nock(HOST).get('/missing').reply(404).get('/missing').reply(200);
    expect(await client.get(`${HOST}/missing`).then(() => 'resolved', (e) => e.response?.status)).to.equal(404);
    expect(notFound.pendingMocks()).to.have.length(1);

    const post = nock(HOST).post('/p').reply(503).post('/p').reply(200);
    expect(await client.post(`${HOST}/p`, {}).then(() => 'resolved', (e) => e.response?.status)).to.equal(503);
    expect(post.pendingMocks()).to.have.length(1);
  });

  it('when an attempt outlasts its timeout, then it fails (and a GET is retried within the attempts allowed)', async () => {
    const slow = nock(HOST).get('/slow').delay(3_000).reply(200).get('/slow').reply(200, { second: true });
    const client = createOutboundClient({ timeoutMs: 100, retries: 1 });
    expect((await client.get(`${HOST}/slow`)).data).to.deep.equal({ second: true });
    expect(slow.isDone()).to.equal(true);
  });

  it('when an event target (the order service notification) answers a redirect, then the delivery fails and the Location is never requested', async () => {
    const elsewhere = nock('http://elsewhere.example.test').patch(/.*/).reply(200);
    const target = nock(HOST).patch('/v1/orders/ord_1/payment-status').times(3).reply(308, '', { Location: 'http://elsewhere.example.test/x' });
    const status = await createDeliveryClient(5_000)
      .patch(`${HOST}/v1/orders/ord_1/payment-status`, { event_id: 'evt_1' })
      .then(() => 'delivered', (e) => e.response?.status);
    expect(status).to.equal(308);
    expect(target.pendingMocks().length).to.be.lessThan(3);
    expect(elsewhere.isDone()).to.equal(false);
  });
});
