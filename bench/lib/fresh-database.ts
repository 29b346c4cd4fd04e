import { createSequelize } from '../../src/shared/db/database';

/**
 * A new, empty database next to `baseUrl`'s for one benchmark run, so numbers are not skewed by rows
 * (or retrying events) left by earlier runs; dropped by `drop()`.
 */
export async function freshDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `payments_bench_${Date.now()}_${process.pid}`;
  const admin = createSequelize(baseUrl, { poolMax: 1 });
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.close();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = createSequelize(baseUrl, { poolMax: 1 });
      await again.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await again.close();
    },
  };
}
