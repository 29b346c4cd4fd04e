'use strict';

/** Who delivered an event: Stripe ('webhook') or the development simulator ('simulate'); moves carry it. */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`ALTER TABLE webhook_events ADD COLUMN source text NOT NULL DEFAULT 'webhook'`);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`ALTER TABLE webhook_events DROP COLUMN source`);
  },
};
