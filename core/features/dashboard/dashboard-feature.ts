import type { ServerResponse } from 'node:http';
import type { HubFeature } from '../hub-feature.ts';
import { DashboardFeed } from './dashboard-feed.ts';
import { dashboardRoutes } from './dashboard-routes.ts';

/**
 * The live dashboard: the page at `/dashboard` and its once-a-second snapshots over `GET /v1/stream`.
 * The feed starts with the feature, so a page opened later still draws the last two minutes.
 */
export function dashboardFeature(): HubFeature {
  let feed: DashboardFeed | undefined;
  const streams = new Set<ServerResponse>();
  return {
    name: 'dashboard',
    start(ctx) {
      feed = new DashboardFeed(ctx);
      feed.start();
    },
    async routes(app, ctx) {
      await dashboardRoutes(app, ctx, feed!, streams);
    },
    stop() {
      feed?.stop();
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
