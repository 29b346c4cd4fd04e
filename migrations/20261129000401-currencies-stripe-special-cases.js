'use strict';

/**
 * The currencies reference table brought in line with https://docs.stripe.com/currencies#special-cases
 * (config/currencies.json is the source): HUF charges take two-decimal amounts (only payouts are
 * whole forints), and ISK (whole kronur, amounts in hundreds) and TWD are allowed.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      INSERT INTO currencies (code, exponent, minimum, step) VALUES
        ('huf', 2, 17500, 1),
        ('twd', 2, 1600, 1),
        ('isk', 2, 7000, 100)
      ON CONFLICT (code) DO UPDATE SET exponent = EXCLUDED.exponent, minimum = EXCLUDED.minimum, step = EXCLUDED.step;
    `);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query(`DELETE FROM currencies WHERE code IN ('twd', 'isk')`);
    await queryInterface.sequelize.query(`UPDATE currencies SET step = 100 WHERE code = 'huf'`);
  },
};
