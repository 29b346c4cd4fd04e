'use strict';

/**
 * Reconcile backs off per candidate: a payment or refund it could not settle is tried again after
 * `reconcile_next_at` (exponential in `reconcile_attempts`), so the same failures cannot fill every
 * batch. The outbox is claimed per target, so that claim gets its own index.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      ALTER TABLE payments ADD COLUMN reconcile_attempts integer NOT NULL DEFAULT 0;
      ALTER TABLE payments ADD COLUMN reconcile_next_at timestamptz;
      ALTER TABLE refunds ADD COLUMN reconcile_attempts integer NOT NULL DEFAULT 0;
      ALTER TABLE refunds ADD COLUMN reconcile_next_at timestamptz;
      CREATE INDEX refunds_open_idx ON refunds (status, updated_at) WHERE status IN ('pending', 'requires_action');
      CREATE INDEX outbox_deliveries_target_due_idx ON outbox_deliveries (target, sequence) WHERE state = 'pending';
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`
      DROP INDEX IF EXISTS outbox_deliveries_target_due_idx;
      DROP INDEX IF EXISTS refunds_open_idx;
      ALTER TABLE refunds DROP COLUMN IF EXISTS reconcile_next_at;
      ALTER TABLE refunds DROP COLUMN IF EXISTS reconcile_attempts;
      ALTER TABLE payments DROP COLUMN IF EXISTS reconcile_next_at;
      ALTER TABLE payments DROP COLUMN IF EXISTS reconcile_attempts;
    `);
  },
};
