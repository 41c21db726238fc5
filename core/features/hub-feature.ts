import type { FastifyInstance } from 'fastify';
import type { HubContext } from './hub-context.ts';

/**
 * A part of the hub built on top of the event flow (read API, alerts, admin, dashboard), written against
 * {@link HubContext} alone. The hub starts its features in order once the ledger, the bus and the
 * dispatchers are wired and before events flow, registers their routes before the HTTP server listens, and
 * stops them in reverse order before it takes the flow down. A feature that fails to start refuses the
 * hub's start; the features started before it are stopped again.
 */
export interface HubFeature {
  /** Names the feature in logs and in errors its hooks throw. */
  readonly name: string;
  /** Called once, before {@link routes}: subscribe, tap metrics, start timers. */
  start?(ctx: HubContext): void | Promise<void>;
  /** Called once, after {@link start}, to register HTTP routes on the hub's server (before it listens). */
  routes?(app: FastifyInstance, ctx: HubContext): void | Promise<void>;
  /** Called once when the hub stops (also after a failed start): detach, stop timers, close what it opened. */
  stop?(): void | Promise<void>;
}
