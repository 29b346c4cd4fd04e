'use strict';

/**
 * A payment can be made for the user's provider customer (a Stripe `cus_...`): to pay with one of
 * their saved cards, or to save the card it is paid with (`setup_future_usage`, Stripe's name). Both
 * are kept on the row so a retry or the reconcile job that creates the PaymentIntent later sends the
 * same parameters as the first attempt would have.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      ALTER TABLE payments
        ADD COLUMN IF NOT EXISTS provider_customer_id text,
        ADD COLUMN IF NOT EXISTS setup_future_usage text
          CHECK (setup_future_usage IN ('on_session', 'off_session'))
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`
      ALTER TABLE payments DROP COLUMN IF EXISTS provider_customer_id, DROP COLUMN IF EXISTS setup_future_usage
    `);
  },
};
