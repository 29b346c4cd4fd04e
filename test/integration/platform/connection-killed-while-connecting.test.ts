import { expect } from 'chai';
import type { Client } from 'pg';
import { testDatabase, usesEmbeddedDatabase } from '../../helpers/database';

type PooledClient = Client & { processID: number; _invalid?: boolean };

/**
 * Sequelize listens for a pg client's 'error' only once the client has connected (and pg reads
 * ReadyForQuery and a following FATAL from one TCP chunk synchronously): a backend terminated while
 * the pool opens a connection (a failover, a PostgreSQL restart, pg_terminate_backend) made 'error'
 * an uncaught exception that ended the process. Found by terminating backends under create load.
 */
describe('a database connection terminated before Sequelize listens to it', () => {
  it('when a client of the pool is cut right after it connected, then the process lives on and the client is marked invalid (the pool discards it)', async () => {
    const sequelize = testDatabase();
    const lib = (sequelize.connectionManager as unknown as { lib: { Client: new (config: unknown) => PooledClient } }).lib;
    const config = (sequelize.connectionManager as unknown as { config: Record<string, unknown> }).config;
    const client = new lib.Client({ ...config, user: config.username });
    if (usesEmbeddedDatabase()) {
      // The embedded database serves one connection (the pool's): pg's own handler of an error
      // arriving on an idle client stands in for the cut.
      (client as unknown as { _handleErrorEvent(err: Error): void })._handleErrorEvent(new Error('terminating connection due to administrator command'));
    } else {
      await client.connect();
      const gone = new Promise((resolve) => client.once('end', resolve));
      await sequelize.query('SELECT pg_terminate_backend(:pid)', { replacements: { pid: client.processID } });
      await gone;
    }
    // Without a listener from the start, the 'error' above was thrown as an uncaught exception.
    expect(client._invalid).to.equal(true);
  });
});
