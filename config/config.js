// sequelize-cli configuration. It needs a real PostgreSQL URL: the embedded database only exists
// while the service runs, and the service applies these same migrations itself at start-up.
const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const base = { url, dialect: 'postgres', seederStorage: 'sequelize', seederStorageTableName: 'SequelizeData' };

module.exports = { development: base, test: base, production: base };
