'use strict';

/**
 * One provider customer per (user, provider): the holder of the user's saved cards. Keyed by provider
 * too, so a database that served the mock and then Stripe (a developer's ./data) never hands Stripe a
 * mock customer id. Rows are written with INSERT ... ON CONFLICT DO NOTHING and re-read, so concurrent
 * first requests settle on one row.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE provider_customers (
        user_id               text NOT NULL,
        provider              text NOT NULL,
        provider_customer_id  text NOT NULL UNIQUE,
        created_at            timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, provider)
      )
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP TABLE IF EXISTS provider_customers');
  },
};
