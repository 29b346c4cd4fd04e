import type { Sql } from '../../shared/db/sql';

/**
 * Where the catch-up job stands: per provider, the time (Unix seconds) up to which a finished pass
 * listed the provider's events (`provider_event_scans`), and the newest event the inbox holds from
 * the provider itself (simulator events are ours, not the provider's, and do not count).
 */
export class EventScanRepository {
  constructor(private readonly sql: Sql) {}

  /** Unix seconds, or null when no pass has finished yet. */
  async scannedThrough(provider: string): Promise<number | null> {
    const row = await this.sql.one<{ scanned_through: string | number }>('SELECT scanned_through FROM provider_event_scans WHERE provider = :provider', {
      provider,
    });
    return row ? Number(row.scanned_through) : null;
  }

  /** Records a finished pass; never moves the mark back (a slower, older pass finishing late). */
  async markScanned(provider: string, through: number): Promise<void> {
    await this.sql.exec(
      `INSERT INTO provider_event_scans (provider, scanned_through) VALUES (:provider, :through)
       ON CONFLICT (provider) DO UPDATE SET scanned_through = GREATEST(provider_event_scans.scanned_through, EXCLUDED.scanned_through), updated_at = now()`,
      { provider, through },
    );
  }

  /** `created` (Unix seconds) of the newest stored event the provider sent, or null when there is none. */
  async newestProviderEvent(): Promise<number | null> {
    const row = await this.sql.one<{ newest: string | number | null }>(
      "SELECT max(provider_created) AS newest FROM webhook_events WHERE source = 'webhook'",
    );
    return row?.newest === null || row?.newest === undefined ? null : Number(row.newest);
  }

  /** Those of `ids` the inbox already holds. */
  async knownIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.sql.many<{ id: string }>('SELECT id FROM webhook_events WHERE id IN (:ids)', { ids });
    return new Set(rows.map((r) => r.id));
  }
}
