'use strict';

/**
 * How far the catch-up job has listed the provider's events (GET /v1/events): a finished pass
 * records the time it started, and the next pass lists from there (minus an overlap). Kept apart
 * from webhook_events because "newest stored event" moves on as soon as webhooks flow again, and
 * would skip the events an outage left behind.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE provider_event_scans (
        provider        text PRIMARY KEY,
        scanned_through bigint NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP TABLE provider_event_scans');
  },
};
