'use strict';

/**
 * What the order service said a payment's order cost, and when it was asked (issue #9): the amount
 * and currency of a payment priced by its order, kept beside the payment's own so a dispute or an
 * audit can tell what was checked. NULL for payments created without the order service.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      ALTER TABLE payments
        ADD COLUMN order_amount bigint CHECK (order_amount > 0),
        ADD COLUMN order_currency text,
        ADD COLUMN order_checked_at timestamptz
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`
      ALTER TABLE payments DROP COLUMN order_amount, DROP COLUMN order_currency, DROP COLUMN order_checked_at
    `);
  },
};
