'use strict';

// Reference data only: the currency allow-list the service validates against, for reports and SQL.
const { currencies } = require('../config/currencies.json');

module.exports = {
  async up(queryInterface) {
    const rows = Object.entries(currencies).map(([code, rule]) => ({ code, ...rule }));
    for (const row of rows) {
      await queryInterface.sequelize.query(
        `INSERT INTO currencies (code, exponent, minimum, step) VALUES (:code, :exponent, :minimum, :step)
         ON CONFLICT (code) DO UPDATE SET exponent = EXCLUDED.exponent, minimum = EXCLUDED.minimum, step = EXCLUDED.step`,
        { replacements: row },
      );
    }
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('DELETE FROM currencies');
  },
};
