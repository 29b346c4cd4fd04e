import { QueryTypes, type Sequelize } from 'sequelize';
import { isDatabaseUnavailable } from '../errors';
// Sequelize's own replacement substitution (the one `sequelize.query` applies), so a grouped statement
// is the exact text it would have sent alone. Internal to Sequelize 6, hence the require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { injectReplacements } = require('sequelize/lib/utils/sql') as {
  injectReplacements(sql: string, dialect: unknown, replacements: Record<string, unknown>): string;
};

/** How many statements one group may hold; later ones wait for the next group. */
const MAX_GROUP = 100;
// A leading comment keeps Sequelize from classifying the group as an INSERT by its first word, so a
// RAW query hands back pg's per-statement results.
const GROUP_MARK = '/* group commit */ ';

interface Waiting {
  text: string;
  resolve(rows: Array<Record<string, unknown>>): void;
  reject(err: unknown): void;
}

interface PgResult {
  rows: Array<Record<string, unknown>>;
}

/**
 * Group commit for autocommit statements on a database with a single connection (the embedded PGlite):
 * statements that arrive while a group is being written wait and are sent together as the next group,
 * one multi-statement simple query. PostgreSQL runs such a query as one implicit transaction ("Multiple
 * Statements in a Simple Query", PostgreSQL docs, protocol-flow), so N callers share one commit and one
 * trip through PGlite's engine instead of paying one each; on one engine the commit is most of a small
 * statement's cost.
 *
 * Each caller still gets its own statement's rows, and its promise settles only once the group has
 * committed. Running the statements in one transaction is the same as running them one after another
 * (one connection: nothing else runs in between), except that a failing statement would abort the
 * others: then the group is rolled back as a whole and each statement is run again on its own, so every
 * caller gets exactly the result or the error it would have had alone. A lost connection (outcome
 * unknown) is not retried: every caller of the group gets that error.
 *
 * Only for one connection: with several, grouped statements would hold each other's row locks until
 * the group commits and could deadlock with another group.
 */
export class GroupCommit {
  private readonly waiting: Waiting[] = [];
  private writing = false;

  constructor(private readonly sequelize: Sequelize) {}

  /**
   * Runs one statement (named `:replacements`, as `sequelize.query`) in the next group; resolves with
   * its rows (RETURNING or SELECT), rejects with the error it raised on its own.
   */
  run(sql: string, replacements: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
    const text = Object.keys(replacements).length > 0 ? injectReplacements(sql, (this.sequelize as unknown as { dialect: unknown }).dialect, replacements) : sql;
    return new Promise((resolve, reject) => {
      this.waiting.push({ text, resolve, reject });
      if (!this.writing) this.writeGroups();
    });
  }

  private writeGroups(): void {
    this.writing = true;
    // One turn of the event loop first, so the statements of requests arriving together form one group.
    setImmediate(async () => {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MAX_GROUP);
        await (group.length === 1 ? this.alone(group[0]) : this.together(group));
      }
      this.writing = false;
    });
  }

  private async together(group: Waiting[]): Promise<void> {
    let results: PgResult[];
    try {
      const [, meta] = await this.sequelize.query(GROUP_MARK + group.map((w) => w.text).join(';\n'), { type: QueryTypes.RAW });
      results = meta as unknown as PgResult[];
    } catch (err) {
      // The connection was lost: whether the group committed is unknown, so running it again could
      // apply it twice. Every caller gets the error, as a statement sent alone would have.
      if (isDatabaseUnavailable(err)) return group.forEach((w) => w.reject(err));
      // A statement failed, so the group rolled back as one: each again on its own, for its own result or error.
      for (const w of group) await this.alone(w);
      return;
    }
    group.forEach((w, i) => w.resolve(results[i]?.rows ?? []));
  }

  private async alone(w: Waiting): Promise<void> {
    try {
      const [, meta] = await this.sequelize.query(GROUP_MARK + w.text, { type: QueryTypes.RAW });
      w.resolve((meta as unknown as PgResult).rows ?? []);
    } catch (err) {
      w.reject(err);
    }
  }
}

const groups = new WeakMap<Sequelize, GroupCommit>();

/** Turns group commit on for `sequelize` (one connection only: see `GroupCommit`). */
export function enableGroupCommit(sequelize: Sequelize): void {
  groups.set(sequelize, new GroupCommit(sequelize));
}

/**
 * The group commit of `sequelize` for an autocommit statement, or undefined to send it alone (not
 * enabled, or a text of several statements, whose results could not be told apart in a group).
 */
export function groupCommitFor(sequelize: Sequelize, sql: string): GroupCommit | undefined {
  const group = groups.get(sequelize);
  return group && !sql.includes(';') ? group : undefined;
}
