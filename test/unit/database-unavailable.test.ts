import { expect } from 'chai';
import { DatabaseError as PgDatabaseError } from 'pg';
import {
  ConnectionAcquireTimeoutError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionTimedOutError,
  DatabaseError,
  HostNotFoundError,
  UniqueConstraintError,
} from 'sequelize';
import { isDatabaseUnavailable, toAppError } from '../../src/shared/errors';

/** A server error as node-postgres builds it from an ErrorResponse (message, SQLSTATE, severity). */
function pgServerError(message: string, code: string, severity = 'FATAL'): PgDatabaseError {
  const err = new PgDatabaseError(message, message.length, 'error');
  err.code = code;
  err.severity = severity;
  return err;
}

/** A Node socket error as `net` raises it. */
function socketError(code: string, syscall = 'read'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: -1, syscall });
}

/** What Sequelize throws from a query whose connection failed: a DatabaseError wrapping pg's error. */
const fromQuery = (original: Error) => new DatabaseError(Object.assign(original, { sql: 'SELECT 1' }) as Error & { sql: string });

describe('isDatabaseUnavailable: which errors mean the database is down (503 database_unavailable)', () => {
  const down: Array<[string, () => Error]> = [
    ["a query on a client whose connection broke (pg: 'Client has encountered a connection error and is not queryable')", () =>
      fromQuery(new Error('Client has encountered a connection error and is not queryable'))],
    ["a query on a client that was closed (pg: 'Client was closed and is not queryable')", () =>
      fromQuery(new Error('Client was closed and is not queryable'))],
    ["the connection dropping mid-query (pg: 'Connection terminated unexpectedly')", () =>
      fromQuery(new Error('Connection terminated unexpectedly'))],
    ["pg's connect timeout ('timeout exceeded when trying to connect')", () => fromQuery(new Error('timeout exceeded when trying to connect'))],
    ['ECONNRESET under a query', () => fromQuery(socketError('ECONNRESET'))],
    ['EPIPE under a query', () => fromQuery(socketError('EPIPE', 'write'))],
    ['ETIMEDOUT under a query', () => fromQuery(socketError('ETIMEDOUT'))],
    ['57P01 admin_shutdown (pg_terminate_backend, a fast shutdown)', () =>
      fromQuery(pgServerError('terminating connection due to administrator command', '57P01'))],
    ['57P02 crash_shutdown', () => fromQuery(pgServerError('terminating connection because of crash of another server process', '57P02'))],
    ['57P03 cannot_connect_now (starting up, in recovery)', () => fromQuery(pgServerError('the database system is starting up', '57P03'))],
    ['08006 connection_failure', () => fromQuery(pgServerError('connection failure', '08006'))],
    ['08001 sqlclient_unable_to_establish_sqlconnection', () => fromQuery(pgServerError('could not connect', '08001'))],
    ['08003 connection_does_not_exist', () => fromQuery(pgServerError('connection does not exist', '08003'))],
    ['08P01 protocol_violation', () => fromQuery(pgServerError('protocol violation', '08P01'))],
    ['53300 too_many_connections', () => fromQuery(pgServerError('sorry, too many clients already', '53300'))],
    ['25P03 idle_in_transaction_session_timeout', () =>
      fromQuery(pgServerError('terminating connection due to idle-in-transaction timeout', '25P03'))],
    ['SequelizeConnectionRefusedError (ECONNREFUSED on connect)', () => new ConnectionRefusedError(socketError('ECONNREFUSED', 'connect'))],
    ['SequelizeConnectionError wrapping 57P03 on connect', () =>
      new ConnectionError(pgServerError('the database system is shutting down', '57P03'))],
    ['SequelizeConnectionError wrapping an AggregateError of ECONNREFUSED (IPv4 and IPv6 tried)', () =>
      new ConnectionError(new AggregateError([socketError('ECONNREFUSED', 'connect'), socketError('ECONNREFUSED', 'connect')]))],
    ['SequelizeConnectionTimedOutError', () => new ConnectionTimedOutError(socketError('ETIMEDOUT', 'connect'))],
    ['SequelizeHostNotFoundError (ENOTFOUND)', () => new HostNotFoundError(socketError('ENOTFOUND', 'getaddrinfo'))],
    ['SequelizeConnectionAcquireTimeoutError (pool exhausted while the database hangs)', () =>
      new ConnectionAcquireTimeoutError(Object.assign(new Error('Operation timeout'), { name: 'TimeoutError' }))],
    ["57P01 from pg itself, unwrapped: a connection terminated while the pool set it up (Sequelize's session SETs, the afterConnect hook)", () =>
      pgServerError('terminating connection due to administrator command', '57P01')],
    ['a rejected COMMIT whose connection broke, passed on as a cause', () =>
      new Error('commit failed', { cause: fromQuery(new Error('Connection terminated unexpectedly')) })],
  ];

  for (const [name, make] of down) {
    it(`when ${name}, then it is the database being down: 503 database_unavailable`, () => {
      const err = make();
      expect(isDatabaseUnavailable(err)).to.equal(true);
      const appError = toAppError(err);
      expect(appError.code).to.equal('database_unavailable');
      expect(appError.status).to.equal(503);
    });
  }

  const notDown: Array<[string, () => Error]> = [
    ['a unique violation (23505)', () => new UniqueConstraintError({ parent: Object.assign(pgServerError('duplicate key', '23505', 'ERROR'), { sql: '' }) })],
    ['a syntax error (42601)', () => fromQuery(pgServerError('syntax error at or near "SELEC"', '42601', 'ERROR'))],
    ['a statement timeout (57014 query_canceled): the database answered', () =>
      fromQuery(pgServerError('canceling statement due to statement timeout', '57014', 'ERROR'))],
    ["an HTTP client's ECONNREFUSED (not the database)", () => socketError('ECONNREFUSED', 'connect')],
    ['a unique violation (23505) from pg itself, unwrapped', () => pgServerError('duplicate key', '23505', 'ERROR')],
    ['a plain programming error', () => new TypeError("Cannot read properties of undefined (reading 'id')")],
  ];

  for (const [name, make] of notDown) {
    it(`when ${name}, then it is not called a database outage`, () => {
      expect(isDatabaseUnavailable(make())).to.equal(false);
      expect(toAppError(make()).code).to.not.equal('database_unavailable');
    });
  }
});
