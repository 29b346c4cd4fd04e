import { expect } from 'chai';
import type { Express } from 'express';
import type { QueryOptions } from 'sequelize';
import { rows, testDatabase } from '../../helpers/database';
import { deliver, stripeEvent, stripeId } from '../../helpers/stripe-events';
import { buildTestApp } from '../../helpers/test-app';
import customerFixture from '../../fixtures/stripe/objects/customer.json';

describe('POST /v1/webhooks/stripe: what the ingest sends to the database', () => {
  let app: Express;

  before(() => {
    ({ app } = buildTestApp());
  });

  it('when an event is delivered, then it is stored by one INSERT whose values (the payload included) are bind parameters, not SQL text', async () => {
    const event = stripeEvent(`test_ingest.${stripeId('x')}`, { ...structuredClone(customerFixture), id: stripeId('cus') } as never);
    const inserts: Array<{ sql: string; bind: unknown }> = [];
    const sequelize = testDatabase();
    sequelize.addHook('afterQuery', 'record-ingest', (options: QueryOptions, query: unknown) => {
      const { sql } = query as { sql?: string };
      if (sql && /INSERT INTO webhook_events/.test(sql)) inserts.push({ sql, bind: options.bind });
    });
    let res;
    try {
      res = await deliver(app, event);
    } finally {
      sequelize.removeHook('afterQuery', 'record-ingest');
    }

    expect(res.status, res.text).to.equal(200);
    expect(inserts).to.have.length(1);
    expect(inserts[0].sql).not.to.contain(event.id);
    expect(inserts[0].sql).not.to.contain('"object"');
    const [stored] = await rows<{ payload: string; state: string; processed_at: Date | null }>(
      'SELECT payload, state, processed_at FROM webhook_events WHERE id = :id',
      { id: event.id },
    );
    expect(JSON.parse(stored.payload)).to.deep.equal(event);
    expect(stored.state).to.equal('ignored');
    expect(stored.processed_at).to.be.an.instanceOf(Date);
  });
});
