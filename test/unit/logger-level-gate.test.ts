import { expect } from 'chai';
import { logger } from '../../src/shared/logger';

const LEVEL = Symbol.for('level');

describe('logger: entries of a level that is off', () => {
  let saved: string;
  beforeEach(() => {
    saved = logger.level;
    logger.level = 'info';
  });
  afterEach(() => {
    logger.level = saved;
  });

  it('when debug is off, then a debug entry is dropped by the first format (never redacted, timestamped or serialised)', () => {
    let read = false;
    const entry = { level: 'debug', [LEVEL]: 'debug', message: 'sql' } as Record<string | symbol, unknown>;
    Object.defineProperty(entry, 'sql', { enumerable: true, get: () => ((read = true), 'SELECT 1') });
    expect(logger.format.transform(entry as never)).to.equal(false);
    expect(read).to.equal(false);
  });

  it('when info is on, then an info entry is formatted as before (JSON with a timestamp)', () => {
    const out = logger.format.transform({ level: 'info', [LEVEL]: 'info', message: 'hello' } as never) as Record<symbol, string>;
    const line = JSON.parse(out[Symbol.for('message')]) as { message: string; timestamp?: string };
    expect(line.message).to.equal('hello');
    expect(line.timestamp).to.be.a('string');
  });
});
