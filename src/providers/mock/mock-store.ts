import type { StripeObject } from './stripe-objects';

/** The mock's object tables (`mock_*`); refunds hang off an intent, cards and SetupIntents off a customer. */
export type MockTable = 'mock_refunds' | 'mock_customers' | 'mock_setup_intents' | 'mock_payment_methods';

/** A PaymentIntent as the mock holds it. `refundedBefore`: refunded before the mock held it (adopted intents). */
export interface StoredIntent {
  pi: StripeObject;
  refundedBefore: number;
}

/** What an idempotency key answered, kept so the same key gets the same answer (errors included). */
export type MockAnswer =
  | { kind: 'ok'; value: unknown }
  | { kind: 'declined'; error: { code?: string; declineCode?: string; message?: string }; intent: StripeObject }
  | { kind: 'rejected'; code: string; message: string; param?: string };

/** Options of GET /v1/events as the mock lists them (newest first). */
export interface MockEventQuery {
  /** Unix seconds: only events created at or after. */
  createdGte?: number;
  /** 1 to 100; default 10, as Stripe's. */
  limit?: number;
  /** An event id: the page after it. */
  startingAfter?: string;
  /** true: delivered; false: not delivered (failed, or never attempted, e.g. the process died first). */
  deliverySuccess?: boolean;
}

/**
 * One transaction on the mock's state. Reads with `lock` hold the row until the end (SELECT ... FOR
 * UPDATE), so two replicas acting on one intent are served one after the other, as Stripe does.
 */
export interface MockTx {
  findIntent(id: string, options?: { lock?: boolean }): Promise<StoredIntent | null>;
  /** `ifAbsent`: an intent already held is left as it is (adopting). */
  insertIntent(intent: StoredIntent, options?: { ifAbsent?: boolean }): Promise<void>;
  saveIntent(pi: StripeObject): Promise<void>;
  find(table: MockTable, id: string, options?: { lock?: boolean }): Promise<StripeObject | null>;
  insert(table: MockTable, object: StripeObject, parentId: string | null, options?: { ifAbsent?: boolean }): Promise<void>;
  save(table: MockTable, object: StripeObject, parentId: string | null): Promise<void>;
  /** The objects hanging off `parentId`, oldest first. */
  children(table: MockTable, parentId: string): Promise<StripeObject[]>;
  addEvent(event: StripeObject): Promise<void>;
  /**
   * Takes `key` for this transaction, or returns what it answered before (with the request it was
   * first used for). A concurrent holder of the key is waited for, then its answer is returned.
   */
  claimKey(key: string, request: unknown): Promise<{ request: unknown; answer: MockAnswer } | null>;
  saveAnswer(key: string, answer: MockAnswer): Promise<void>;
}

export interface MockStore {
  /** Runs `fn` in one transaction: all of its writes happen, or (when it throws) none. */
  transaction<T>(fn: (tx: MockTx) => Promise<T>): Promise<T>;
  /**
   * Optional fast path of an idempotent operation that only writes: `run` against a write buffer, then
   * the key (new), its answer and the writes in one statement. Null when `run` reads or the key exists
   * (nothing written): the caller runs it again under `transaction` with `claimKey`.
   */
  writeOnce?(key: string, request: unknown, run: (tx: MockTx) => Promise<MockAnswer>): Promise<MockAnswer | null>;
  markDelivery(eventId: string, success: boolean): Promise<void>;
  listEvents(query: MockEventQuery): Promise<{ data: StripeObject[]; hasMore: boolean }>;
}

type Row = { object: StripeObject; parentId: string | null; seq: number };
type EventRow = { event: StripeObject; seq: number; deliverySuccess: boolean | null };

const clone = <T>(value: T): T => structuredClone(value);

/**
 * The mock's state in process memory, for a mock without a database: unit tests, and the scratch mock
 * the simulator uses for the Stripe provider. One transaction at a time; a failed one is undone.
 */
export class MemoryMockStore implements MockStore {
  private readonly intents = new Map<string, StoredIntent & { seq: number }>();
  private readonly tables = new Map<MockTable, Map<string, Row>>();
  private readonly events: EventRow[] = [];
  private readonly keys = new Map<string, { request: unknown; answer: MockAnswer | null }>();
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();

  transaction<T>(fn: (tx: MockTx) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => this.run(fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async markDelivery(eventId: string, success: boolean): Promise<void> {
    const row = this.events.find((e) => e.event.id === eventId);
    if (row) row.deliverySuccess = success;
  }

  async listEvents(query: MockEventQuery): Promise<{ data: StripeObject[]; hasMore: boolean }> {
    return pageOfEvents(this.events, query);
  }

  private async run<T>(fn: (tx: MockTx) => Promise<T>): Promise<T> {
    const undo: Array<() => void> = [];
    const table = (name: MockTable) => {
      if (!this.tables.has(name)) this.tables.set(name, new Map());
      return this.tables.get(name)!;
    };
    const tx: MockTx = {
      findIntent: async (id) => {
        const found = this.intents.get(id);
        return found ? { pi: clone(found.pi), refundedBefore: found.refundedBefore } : null;
      },
      insertIntent: async (intent, options) => {
        if (this.intents.has(intent.pi.id) && options?.ifAbsent) return;
        this.intents.set(intent.pi.id, { pi: clone(intent.pi), refundedBefore: intent.refundedBefore, seq: ++this.seq });
        undo.push(() => this.intents.delete(intent.pi.id));
      },
      saveIntent: async (pi) => {
        const before = this.intents.get(pi.id)!;
        this.intents.set(pi.id, { ...before, pi: clone(pi) });
        undo.push(() => this.intents.set(pi.id, before));
      },
      find: async (name, id) => {
        const row = table(name).get(id);
        return row ? clone(row.object) : null;
      },
      insert: async (name, object, parentId, options) => {
        if (table(name).has(object.id) && options?.ifAbsent) return;
        table(name).set(object.id, { object: clone(object), parentId, seq: ++this.seq });
        undo.push(() => table(name).delete(object.id));
      },
      save: async (name, object, parentId) => {
        const before = table(name).get(object.id)!;
        table(name).set(object.id, { ...before, object: clone(object), parentId });
        undo.push(() => table(name).set(object.id, before));
      },
      children: async (name, parentId) =>
        [...table(name).values()].filter((r) => r.parentId === parentId).sort((a, b) => a.seq - b.seq).map((r) => clone(r.object)),
      addEvent: async (event) => {
        this.events.push({ event: clone(event), seq: ++this.seq, deliverySuccess: null });
        undo.push(() => this.events.pop());
      },
      claimKey: async (key, request) => {
        const held = this.keys.get(key);
        if (held?.answer) return { request: held.request, answer: clone(held.answer) };
        this.keys.set(key, { request, answer: null });
        undo.push(() => this.keys.delete(key));
        return null;
      },
      saveAnswer: async (key, answer) => {
        this.keys.set(key, { request: this.keys.get(key)?.request, answer: clone(answer) });
      },
    };
    try {
      return await fn(tx);
    } catch (err) {
      for (const step of undo.reverse()) step();
      throw err;
    }
  }
}

/** One page of events, newest first, as GET /v1/events answers; shared by both stores' semantics. */
export function pageOfEvents(rows: EventRow[], query: MockEventQuery): { data: StripeObject[]; hasMore: boolean } {
  const limit = Math.min(Math.max(query.limit ?? 10, 1), 100);
  let candidates = [...rows].sort((a, b) => b.seq - a.seq);
  if (query.startingAfter) {
    const after = rows.find((r) => r.event.id === query.startingAfter);
    candidates = after ? candidates.filter((r) => r.seq < after.seq) : [];
  }
  candidates = candidates.filter(
    (r) =>
      (query.createdGte === undefined || (r.event.created as number) >= query.createdGte) &&
      (query.deliverySuccess === undefined || (r.deliverySuccess === true) === query.deliverySuccess),
  );
  return { data: candidates.slice(0, limit).map((r) => clone(r.event)), hasMore: candidates.length > limit };
}
