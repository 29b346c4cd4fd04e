import nock from 'nock';
import { startTestDatabase, stopTestDatabase } from './database';

/** Mocha root hooks: one database for the whole run; no real network beyond loopback. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    nock.disableNetConnect();
    nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
    await startTestDatabase();
  },
  async afterAll() {
    nock.enableNetConnect();
    await stopTestDatabase();
  },
};
