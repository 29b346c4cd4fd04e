import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local order service for `--order-service`: every order exists, is the caller's, pending, 2000 usd. */
export interface OrderServiceStandIn {
  url: string;
  lookups: number;
  notifications: number;
  stop(): Promise<void>;
}

/**
 * Answers `GET /v1/orders/{id}` with `{"id", "user_id": <X-User-Id>, "amount": 2000, "currency": "usd",
 * "status": "pending"}` and `PATCH /v1/orders/{id}/payment-status` (the outbox's notifications) with
 * 204, at once: what is measured is the service's side of the lookup, not an order service.
 */
export async function startOrderServiceStandIn(): Promise<OrderServiceStandIn> {
  const standIn = { url: '', lookups: 0, notifications: 0, stop: async () => undefined } as OrderServiceStandIn;
  const server: Server = createServer((req, res) => {
    const lookup = /^\/v1\/orders\/([^/]+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && lookup) {
      standIn.lookups++;
      const body = JSON.stringify({ id: decodeURIComponent(lookup[1]), user_id: req.headers['x-user-id'], amount: 2000, currency: 'usd', status: 'pending' });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    req.resume();
    req.on('end', () => {
      if (req.method === 'PATCH') standIn.notifications++;
      res.writeHead(req.method === 'PATCH' ? 204 : 404).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return standIn;
}
