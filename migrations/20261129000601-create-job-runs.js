'use strict';

/**
 * One row per cron job: the last schedule tick some replica claimed, and how that run went. The
 * claim is a conditional upsert (`... WHERE last_tick < :tick`), so among replicas firing the same
 * tick exactly one runs it, even when another finished its run before the next one fired; the job
 * lock (PostgreSQL advisory lock or Redis lease) keeps two runs of a job from overlapping.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE job_runs (
        job               text PRIMARY KEY,
        last_tick         timestamptz NOT NULL,
        last_holder       text NOT NULL,
        last_started_at   timestamptz NOT NULL DEFAULT now(),
        last_finished_at  timestamptz,
        last_result       text,
        last_error        text
      )
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP TABLE IF EXISTS job_runs');
  },
};
