import type { FastifyInstance } from 'fastify';
import type { Hub } from '../hub.ts';
import { alertRoutes } from '../alerts/alert-routes.ts';
import { readRoutes } from '../read/read-routes.ts';
import { deadLetterRoutes } from '../admin/dead-letter-routes.ts';
import { whyRoutes } from '../admin/why-routes.ts';
import { dashboardRoutes } from '../dashboard/dashboard-routes.ts';

/** Registers routes on the hub's HTTP server; called once at start, after the hub is wired. */
export type HubRoute = (app: FastifyInstance, hub: Hub) => void | Promise<void>;

/** The routes every `stockrelay start` serves besides webhooks, /metrics and /healthz. */
export const HUB_ROUTES: HubRoute[] = [
  readRoutes,
  alertRoutes,
  deadLetterRoutes,
  whyRoutes,
  dashboardRoutes,
];
