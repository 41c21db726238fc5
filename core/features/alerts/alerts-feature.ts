import type { AlertBoard } from '../hub-context.ts';
import type { HubFeature } from '../hub-feature.ts';
import type { AlertEngine } from './alert-engine.ts';
import { alertRoutes } from './alert-routes.ts';
import { startAlertEngine } from './start-alert-engine.ts';

/** The alerts feature, and the board through which the hub shows its alerts to the other features. */
export interface AlertsFeature extends HubFeature {
  /** The engine's alerts once the feature has started (empty before). */
  readonly board: AlertBoard;
}

/**
 * The article's thresholds evaluated in the hub (sync lag, oversells, success rate, dead letters, backlog),
 * `GET /v1/alerts`, and notifications to `alerts.webhookUrl`. The hub hands {@link AlertsFeature.board}
 * to every feature as `ctx.alerts`, so the dashboard lists the same alerts without knowing this feature.
 */
export function alertsFeature(): AlertsFeature {
  let running: { engine: AlertEngine; stop(): Promise<void> } | undefined;
  return {
    name: 'alerts',
    board: {
      list: () => running?.engine.list() ?? [],
      get evaluatedAt() {
        return running?.engine.evaluatedAt ?? null;
      },
    },
    start(ctx) {
      running = startAlertEngine(ctx);
    },
    routes(app, ctx) {
      alertRoutes(app, ctx);
    },
    async stop() {
      await running?.stop();
    },
  };
}
