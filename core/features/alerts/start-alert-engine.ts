import type { HubContext } from '../hub-context.ts';
import { AlertEngine } from './alert-engine.ts';

/**
 * Starts evaluating the hub's alerts: dispatch outcomes through a metrics tap, oversells through the
 * change notifications, dead-letter depth and consumer backlog from JetStream. Call before events flow so
 * no oversell is missed; `stop` detaches everything and stops the evaluation.
 */
export function startAlertEngine(ctx: Pick<HubContext, 'config' | 'channels' | 'metrics' | 'logger' | 'deadLetters' | 'bus' | 'changes'>): { engine: AlertEngine; stop(): Promise<void> } {
  const engine = new AlertEngine({
    settings: ctx.config.alerts,
    channels: ctx.channels.list().map((channel) => channel.id),
    snapshot: (channelId) => ctx.channels.get(channelId)?.snapshot(),
    metrics: ctx.metrics,
    logger: ctx.logger,
    probes: {
      async deadLetters() {
        const depth = await ctx.deadLetters.depth();
        const depths = new Map<string, number>([['', depth.events]]);
        for (const [channel, count] of Object.entries(depth.pushes)) depths.set(channel, count);
        return depths;
      },
      backlog: () => ctx.bus.backlog(),
    },
  });
  const untap = ctx.metrics.tap(engine);
  const unlisten = ctx.changes.listen((_changes, outcomes) => engine.recordOutcomes(outcomes));
  engine.start();
  return {
    engine,
    async stop() {
      untap();
      unlisten();
      await engine.stop();
    },
  };
}
