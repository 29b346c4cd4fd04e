'use strict';

/** Reference table of allowed currencies, filled by the seeder from config/currencies.json. */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE currencies (
        code      text PRIMARY KEY,
        exponent  smallint NOT NULL,
        minimum   bigint NOT NULL,
        step      integer NOT NULL
      );
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP TABLE IF EXISTS currencies;');
  },
};
