import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { migrateToLatest } from '../../core/ledger/migrate.ts';
import type { InventoryEvent } from '../../core/events/event-types.ts';
import { freshDatabase, uniqueSuffix, type FreshDatabase } from '../support/servers.ts';

/** One database the ledger specification runs against. */
export interface LedgerBackend {
  name: 'postgres' | 'pglite';
  /** Opens the backend (a fresh database) and migrates it. */
  setUp(): Promise<void>;
  /** The main handle. */
  primary(): LedgerDatabase;
  /** A second handle on the same data: its own pool on Postgres, the same instance on PGlite (one connection only). */
  secondary(): Promise<LedgerDatabase>;
  tearDown(): Promise<void>;
}

export function postgresBackend(): LedgerBackend {
  let fresh: FreshDatabase | undefined;
  const handles: LedgerDatabase[] = [];
  return {
    name: 'postgres',
    async setUp() {
      fresh = await freshDatabase('ledger');
      const handle = await openDatabase({ url: fresh.url, poolSize: 6 });
      handles.push(handle);
      await migrateToLatest(handle.db);
    },
    primary: () => handles[0]!,
    async secondary() {
      const handle = await openDatabase({ url: fresh!.url, poolSize: 6 });
      handles.push(handle);
      return handle;
    },
    async tearDown() {
      for (const h of handles.splice(0)) await h.close();
      await fresh?.drop();
    },
  };
}

export function pgliteBackend(): LedgerBackend {
  let handle: LedgerDatabase | undefined;
  return {
    name: 'pglite',
    async setUp() {
      handle = await openDatabase({});
      await migrateToLatest(handle.db);
    },
    primary: () => handle!,
    secondary: async () => handle!,
    async tearDown() {
      await handle?.close();
    },
  };
}

/** Builds events with unique ids and SKUs, so tests sharing one database never see each other's rows. */
export class EventFactory {
  readonly prefix = `t${uniqueSuffix()}`;
  #n = 0;
  sku(name: string): string {
    return `${this.prefix}-${name}`;
  }
  #id(kind: string): string {
    return `${this.prefix}:${kind}:${++this.#n}`;
  }
  set(lines: Record<string, number>, channel = 'manual'): InventoryEvent {
    return {
      id: this.#id('set'),
      type: 'stock.set',
      channel,
      occurredAt: new Date().toISOString(),
      lines: Object.entries(lines).map(([sku, quantity]) => ({ sku, quantity })),
    };
  }
  adjust(lines: Record<string, number>, channel = 'manual'): InventoryEvent {
    return {
      id: this.#id('adjust'),
      type: 'stock.adjusted',
      channel,
      occurredAt: new Date().toISOString(),
      lines: Object.entries(lines).map(([sku, delta]) => ({ sku, delta })),
    };
  }
  order(lines: Record<string, number>, channel = 'shop-a'): InventoryEvent {
    return {
      id: this.#id('order'),
      type: 'order.confirmed',
      channel,
      occurredAt: new Date().toISOString(),
      lines: Object.entries(lines).map(([sku, qty]) => ({ sku, qty })),
    };
  }
  /** An order confirmation carrying its order id, as connectors send it (`<channel>:order:<id>:confirmed`). */
  confirmOrder(orderId: string, lines: Record<string, number>, channel = 'shop-a'): InventoryEvent {
    return { ...this.order(lines, channel), id: `${channel}:order:${this.prefix}-${orderId}:confirmed`, orderId: `${this.prefix}-${orderId}` } as InventoryEvent;
  }
  /** A cancellation of `orderId` (all of it or `lines` only); `n` tells apart several cancellations of one order. */
  cancelOrder(orderId: string, lines: Record<string, number>, n = 1, channel = 'shop-a'): InventoryEvent {
    return { ...this.cancel(lines, channel), id: `${channel}:order:${this.prefix}-${orderId}:cancelled:${n}`, orderId: `${this.prefix}-${orderId}` } as InventoryEvent;
  }
  /** A refund or return of `orderId`: per SKU `[units returned, units restocked]`; `n` tells apart several returns of one order. */
  returnOrder(orderId: string, lines: Record<string, [number, number]>, n = 1, channel = 'shop-a'): InventoryEvent {
    return {
      id: `${channel}:order:${this.prefix}-${orderId}:returned:${n}`,
      type: 'order.returned',
      channel,
      occurredAt: new Date().toISOString(),
      orderId: `${this.prefix}-${orderId}`,
      lines: Object.entries(lines).map(([sku, [qty, restock]]) => ({ sku, qty, restock })),
    };
  }
  cancel(lines: Record<string, number>, channel = 'shop-a'): InventoryEvent {
    return {
      id: this.#id('cancel'),
      type: 'order.cancelled',
      channel,
      occurredAt: new Date().toISOString(),
      lines: Object.entries(lines).map(([sku, qty]) => ({ sku, qty })),
    };
  }
}
