import type { Sql } from '../../shared/db/sql';

/** Our user's customer at a provider (a Stripe `cus_...`), the holder of their saved cards. */
export interface ProviderCustomer {
  userId: string;
  provider: string;
  providerCustomerId: string;
  createdAt: Date;
}

interface ProviderCustomerRow {
  user_id: string;
  provider: string;
  provider_customer_id: string;
  created_at: Date;
}

const toProviderCustomer = (r: ProviderCustomerRow): ProviderCustomer => ({
  userId: r.user_id,
  provider: r.provider,
  providerCustomerId: r.provider_customer_id,
  createdAt: new Date(r.created_at),
});

export class ProviderCustomerRepository {
  constructor(private readonly sql: Sql) {}

  async find(userId: string, provider: string): Promise<ProviderCustomer | null> {
    const row = await this.sql.one<ProviderCustomerRow>(
      `SELECT * FROM provider_customers WHERE user_id = :userId AND provider = :provider`,
      { userId, provider },
    );
    return row ? toProviderCustomer(row) : null;
  }

  /** Keeps the first row for (user, provider): a concurrent request that stored one already wins, and the caller re-reads. */
  async insertIfAbsent(c: { userId: string; provider: string; providerCustomerId: string }): Promise<void> {
    await this.sql.exec(
      `INSERT INTO provider_customers (user_id, provider, provider_customer_id)
       VALUES (:userId, :provider, :providerCustomerId) ON CONFLICT DO NOTHING`,
      { ...c },
    );
  }
}
