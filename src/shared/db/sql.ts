import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { groupCommitFor } from './group-commit';

/**
 * Thin helpers over `sequelize.query` so repositories read as SQL with named parameters. A statement
 * outside a transaction goes through the database's group commit when it has one (the embedded
 * database: see `GroupCommit`).
 */
export class Sql {
  constructor(readonly sequelize: Sequelize) {}

  async many<T>(sql: string, replacements: Record<string, unknown> = {}, transaction?: Transaction): Promise<T[]> {
    const group = transaction ? undefined : groupCommitFor(this.sequelize, sql);
    if (group) return (await group.run(sql, replacements)) as T[];
    return (await this.sequelize.query(sql, { replacements, transaction, type: QueryTypes.SELECT })) as T[];
  }

  async one<T>(sql: string, replacements: Record<string, unknown> = {}, transaction?: Transaction): Promise<T | null> {
    const rows = await this.many<T>(sql, replacements, transaction);
    return rows[0] ?? null;
  }

  /** For INSERT/UPDATE ... RETURNING: the returned rows. */
  async returning<T>(sql: string, replacements: Record<string, unknown> = {}, transaction?: Transaction): Promise<T[]> {
    const group = transaction ? undefined : groupCommitFor(this.sequelize, sql);
    if (group) return (await group.run(sql, replacements)) as T[];
    const [rows] = await this.sequelize.query(sql, { replacements, transaction });
    return rows as T[];
  }

  async exec(sql: string, replacements: Record<string, unknown> = {}, transaction?: Transaction): Promise<void> {
    const group = transaction ? undefined : groupCommitFor(this.sequelize, sql);
    if (group) return void (await group.run(sql, replacements));
    await this.sequelize.query(sql, { replacements, transaction });
  }
}

/** JSON for a `jsonb` parameter (use with `CAST(:x AS jsonb)`). */
export const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));
