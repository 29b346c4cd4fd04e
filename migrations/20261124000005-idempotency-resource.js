'use strict';

/** The object a request under an idempotency key created besides its payment (e.g. a refund), for resuming. */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`ALTER TABLE idempotency_keys ADD COLUMN resource_id text`);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`ALTER TABLE idempotency_keys DROP COLUMN resource_id`);
  },
};
