import { deadLetterFilter, pushLetterChannel } from '../bus/subjects.ts';
import type { Hub } from '../hub.ts';
import { AlertEngine } from './alert-engine.ts';

const engines = new WeakMap<Hub, AlertEngine>();

/** The alert engine running in this hub, once {@link startAlertEngine} ran. */
export function alertEngineOf(hub: Hub): AlertEngine | undefined {
  return engines.get(hub);
}

/**
 * Starts evaluating the hub's alerts: dispatch outcomes through a metrics tap, oversells through
 * `hub.onChange`, dead-letter depth and consumer backlog from JetStream. Call before events flow so no
 * oversell is missed; `stop` detaches everything and stops the evaluation.
 */
export function startAlertEngine(hub: Hub): { engine: AlertEngine; stop(): Promise<void> } {
  const { config } = hub.loaded;
  const { nats } = config;
  const engine = new AlertEngine({
    settings: config.alerts,
    channels: [...hub.dispatchers.keys()],
    snapshot: (channelId) => hub.dispatchers.get(channelId)?.snapshot(),
    metrics: hub.metrics,
    logger: hub.logger,
    probes: {
      async deadLetters() {
        const info = await hub.bus.jsm.streams.info(nats.deadLetterStream, { subjects_filter: deadLetterFilter(nats.subjectPrefix) });
        const depths = new Map<string, number>();
        for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
          const channel = pushLetterChannel(nats.subjectPrefix, subject) ?? '';
          depths.set(channel, (depths.get(channel) ?? 0) + count);
        }
        return depths;
      },
      async backlog() {
        const info = await hub.bus.jsm.consumers.info(nats.stream, nats.consumer);
        return info.num_pending + hub.backlog();
      },
    },
  });
  const untap = hub.metrics.tap(engine);
  const unlisten = hub.onChange((_changes, outcomes) => engine.recordOutcomes(outcomes));
  engine.start();
  engines.set(hub, engine);
  return {
    engine,
    async stop() {
      untap();
      unlisten();
      await engine.stop();
    },
  };
}
