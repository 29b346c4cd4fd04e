import type { QueryOptions, Transaction } from 'sequelize';
import { testDatabase } from './database';

/** A statement the service sent, and the id of its transaction (null: autocommit). */
export interface SentStatement {
  sql: string;
  tx: string | null;
}

/** Runs `fn` and returns every statement sent on the test database meanwhile, in order. */
export async function recordStatements(fn: () => Promise<unknown>): Promise<SentStatement[]> {
  const sent: SentStatement[] = [];
  const sequelize = testDatabase();
  const name = `record-statements-${Math.random().toString(36).slice(2)}`;
  sequelize.addHook('afterQuery', name, (options: QueryOptions, query: unknown) => {
    const tx = (options as QueryOptions & { transaction?: Transaction | null }).transaction as { id?: string } | null | undefined;
    sent.push({ sql: String((query as { sql?: string }).sql ?? ''), tx: tx?.id ?? null });
  });
  try {
    await fn();
  } finally {
    sequelize.removeHook('afterQuery', name);
  }
  return sent;
}
