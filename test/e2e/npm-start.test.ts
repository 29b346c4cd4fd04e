import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { startService } from '../../bench/lib/service-process';
import { signDevToken } from '../../src/shared/auth/jwt-verifier';

/**
 * The service as `npm start` runs it, in a child process: no DATABASE_URL, no REDIS_URL, no Stripe
 * key. Slow by nature (a real start-up with migrations), so it is the only test of its kind.
 */
describe('the service started as `npm start` starts it (child process, embedded database, mock provider)', function () {
  this.timeout(120_000);

  it('when started bare, then it migrates, prints where to go and how to get a token, serves, and on SIGTERM finishes the request in flight before exiting 0', async () => {
    const jwtSecret = randomBytes(32).toString('hex');
    const service = await startService({ jwtSecret, env: { MOCK_LATENCY_MS: '1500', LOG_LEVEL: 'info' } });
    let stopped = false;
    try {
      const printed = service.output().join('\n');
      expect(printed).to.match(/"message":"database migrated"/);
      expect(printed).to.contain('payments-service is running at http://localhost:');
      expect(printed).to.contain('/docs');
      expect(printed).to.match(/Checkout page: +http:\/\/localhost:\d+\/checkout/);
      expect(printed).to.contain('npm run token -- --user u_1');

      const token = signDevToken(jwtSecret, { sub: 'u_e2e', role: 'customer' });
      const inFlight = fetch(`${service.url}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 2000, currency: 'usd' }),
      });
      await sleep(400); // the mock's 1.5 s latency keeps the request open while SIGTERM arrives

      const exitCode = await service.stop();
      stopped = true;
      const answer = await inFlight;
      expect(answer.status).to.equal(201);
      expect(((await answer.json()) as { client_secret: string }).client_secret).to.match(/_secret_/);
      expect(exitCode).to.equal(0);
      expect(service.output().join('\n')).to.contain('"message":"stopped"');
      const after = await fetch(`${service.url}/health`).then(
        () => 'answered',
        () => 'refused',
      );
      expect(after).to.equal('refused');
    } finally {
      if (!stopped) await service.stop();
    }
  });
});
