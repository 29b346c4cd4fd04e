'use strict';

/**
 * One order, one charge: a confirm of a payment with an order_id claims the order for the time of its
 * provider call (`confirm_claimed_until`, a lease, so a process that died holding it frees it), so a
 * concurrent confirm of another payment of the same order, on any replica, is refused before it
 * reaches the provider. No index: the rule is kept under the (user, order) advisory lock; a unique
 * index on paid statuses would make a webhook reporting money that already moved fail to apply.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`ALTER TABLE payments ADD COLUMN IF NOT EXISTS confirm_claimed_until timestamptz`);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`ALTER TABLE payments DROP COLUMN IF EXISTS confirm_claimed_until`);
  },
};
