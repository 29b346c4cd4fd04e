import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { freshDatabase } from '../../bench/lib/fresh-database';
import { createSequelize } from '../../src/shared/db/database';

/**
 * A database for a service started as a child process, readable by the test once the service has
 * exited: a fresh database next to DATABASE_URL's when set, else an embedded PGlite data directory
 * (opened here after the child has let go of it).
 */
export interface ServiceDatabase {
  /** Environment for `startService({ env })`. */
  env: Record<string, string>;
  /** Runs `sql` against the service's database; for the embedded one, only after the service exited. */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  drop(): Promise<void>;
}

export async function serviceDatabase(): Promise<ServiceDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  if (baseUrl) {
    const fresh = await freshDatabase(baseUrl);
    return {
      env: { DATABASE_URL: fresh.url },
      async query<T>(sql: string) {
        const db = createSequelize(fresh.url, { poolMax: 1 });
        try {
          const [rows] = await db.query(sql);
          return rows as T[];
        } finally {
          await db.close();
        }
      },
      drop: () => fresh.drop(),
    };
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'payments-e2e-'));
  return {
    env: { DATA_DIR: dataDir },
    async query<T>(sql: string) {
      const db = await PGlite.create(path.join(dataDir, 'pglite'));
      try {
        return (await db.query<T>(sql)).rows;
      } finally {
        await db.close();
      }
    },
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
