import { request } from 'undici';
import type { SweepEnv } from './sweep-env.ts';

/** How many of each fault a run (or the whole sweep) caused. */
export interface FaultTally {
  kills: number;
  sigterms: number;
  natsRestarts: number;
  databaseOutages: number;
  nodeLosses: number;
  failovers: number;
}

/** What a fault did, for the tallies. */
export interface FaultOutcome extends FaultTally {
  /** When the system had everything back (hub restarted, server up, standby in charge): convergence counts from here. */
  recoveredAt: number;
  note?: string;
}

export interface Fault {
  name: string;
  /** The channel holds writes past the hub's push timeout and applies them late: such writes must be repaired, not prevented. */
  lateWrites?: boolean;
  /** Runs while the workload streams; returns once the fault is over. */
  inject(env: SweepEnv, random: () => number, streamMs: number): Promise<FaultOutcome>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const none = (): FaultOutcome => ({ kills: 0, sigterms: 0, natsRestarts: 0, databaseOutages: 0, nodeLosses: 0, failovers: 0, recoveredAt: Date.now() });

/** Polls `ready` every millisecond or so until it holds or `timeoutMs` passes; true when it held. */
async function until(ready: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return true;
    await sleep(1);
  }
  return false;
}

/** Kills the (only) hub at the moment `armed` finds, then starts it again. */
function killAt(name: string, armed: (env: SweepEnv, random: () => number, streamMs: number) => Promise<void>): Fault {
  return {
    name,
    async inject(env, random, streamMs) {
      const hub = env.hubs[0]!;
      // Into the stream first, so the hub is busy when the moment comes.
      await sleep(200 + random() * Math.min(800, streamMs / 3));
      await armed(env, random, streamMs);
      await hub.kill();
      await hub.start();
      return { ...none(), kills: 1, recoveredAt: Date.now() };
    },
  };
}

const sumStats = (env: SweepEnv, key: string): number => env.channels.reduce((sum, c) => sum + (c.simulator.stats()[key] ?? 0), 0);

/**
 * The named moments a hub is killed with SIGKILL. Each is found from outside the hub process, by what
 * the channels, the workload and the stream see, so the product carries no test hooks.
 */
export const KILL_POINTS: Fault[] = [
  killAt('webhook-in-flight', async (env) => {
    // A channel's order delivery has reached the hub and is not answered yet.
    await until(() => env.workload.inFlight > 0, 5_000);
  }),
  killAt('push-unanswered', async (env) => {
    // A push reached a channel (and was written there) but its answer has not come back.
    const before = sumStats(env, 'itemsWritten');
    await until(() => sumStats(env, 'itemsWritten') > before, 5_000);
  }),
  killAt('push-answered', async (env) => {
    // A push was answered: the hub is recording the confirmation (or about to).
    const before = sumStats(env, 'itemsWritten');
    await until(() => sumStats(env, 'itemsWritten') > before, 5_000);
    await sleep(90);
  }),
  killAt('committed-not-acked', async (env) => {
    // A ledger transaction has just committed: the change feed carries it before the stream sees the acks.
    const sub = env.bus.nc.subscribe(`${env.loaded.config.nats.subjectPrefix}.changed`, { max: 1 });
    await Promise.race([(async () => { for await (const _ of sub) break; })(), sleep(5_000)]);
    sub.unsubscribe();
  }),
  killAt('deliveries-unacked', async (env) => {
    // Events delivered to the hub and not yet acknowledged.
    await until(async () => {
      const { stream, consumer } = env.loaded.config.nats;
      return (await env.bus.jsm.consumers.info(stream, consumer)).num_ack_pending > 0;
    }, 5_000);
  }),
  killAt('random', async (_env, random, streamMs) => {
    await sleep(random() * streamMs * 0.6);
  }),
  {
    name: 'during-start-up',
    async inject(env, random) {
      // Killed while it migrates, takes leases and creates its consumer; then started for good.
      const hub = env.hubs[0]!;
      await sleep(200 + random() * 500);
      await hub.kill();
      hub.startInBackground();
      await sleep(random() * 1500);
      await hub.kill();
      await hub.start();
      return { ...none(), kills: 2, recoveredAt: Date.now() };
    },
  },
];

export const SIGTERM: Fault = {
  name: 'sigterm',
  async inject(env, random, streamMs) {
    const hub = env.hubs[0]!;
    await sleep(200 + random() * streamMs * 0.4);
    await hub.terminate();
    await hub.start();
    return { ...none(), sigterms: 1, recoveredAt: Date.now() };
  },
};

export function natsRestart(outageMs: number): Fault {
  return {
    name: 'nats-restart',
    async inject(env, random) {
      await sleep(300 + random() * 500);
      for (const node of env.nats.nodes) await node.stop();
      await sleep(outageMs);
      for (const node of env.nats.nodes) await node.start();
      return { ...none(), natsRestarts: 1, recoveredAt: Date.now() };
    },
  };
}

export function databaseOutage(outageMs: number): Fault {
  return {
    name: 'database-outage',
    async inject(env, random) {
      await sleep(300 + random() * 500);
      await env.proxy.cut();
      await sleep(outageMs);
      await env.proxy.restore();
      return { ...none(), databaseOutages: 1, recoveredAt: Date.now() };
    },
  };
}

export function nodeLoss(downMs: number): Fault {
  return {
    name: 'cluster-node-loss',
    async inject(env, random) {
      await sleep(300 + random() * 500);
      const node = env.nats.nodes[1 + Math.floor(random() * (env.nats.nodes.length - 1))]!;
      await node.kill();
      await sleep(downMs);
      await node.start();
      return { ...none(), nodeLosses: 1, recoveredAt: Date.now(), note: `lost ${node.name}` };
    },
  };
}

/** Which hub pushes the channels now, from its /healthz. */
async function pushingHub(env: SweepEnv): Promise<number> {
  for (const [i, hub] of env.hubs.entries()) {
    if (!hub.running || !hub.url) continue;
    try {
      const res = await request(`${hub.url}/healthz`);
      const body = (await res.body.json()) as { checks?: { channels?: Record<string, { pushing?: boolean }> } };
      if (Object.values(body.checks?.channels ?? {}).some((c) => c.pushing)) return i;
    } catch {
      // not answering: not the one
    }
  }
  return -1;
}

export const FAILOVER: Fault = {
  name: 'pusher-killed',
  async inject(env, random) {
    await sleep(300 + random() * 500);
    const index = await pushingHub(env);
    const victim = env.hubs[index >= 0 ? index : 0]!;
    await victim.kill();
    const recoveredAt = Date.now();
    // The standby takes over on its own; the killed hub comes back later as the new standby.
    void (async () => {
      await sleep(1500);
      await victim.start().catch(() => undefined);
    })();
    return { ...none(), kills: 1, failovers: 1, recoveredAt };
  },
};

/**
 * Makes the first channel hold its writes `holdMs` and resolves once it holds at least one (or 10 s
 * passed); `held()` counts the writes held since.
 */
async function holdWrites(env: SweepEnv, holdMs: number): Promise<{ channelId: string; held: () => number; release: () => void }> {
  const channel = env.channels[0]!;
  const count = (): number => channel.simulator.stats().held ?? 0;
  const before = count();
  channel.simulator.setFault({ kind: 'hold-writes', ms: holdMs });
  await until(() => count() > before, 10_000);
  return { channelId: channel.id, held: () => count() - before, release: () => channel.simulator.setFault(null) };
}

/**
 * A channel that holds writes longer than the hub's push timeout and applies them later: a newer push must
 * never be recorded as confirmed while the older write may still land, and what lands late is repaired.
 */
export function lateWrites(holdMs: number, faultMs: number): Fault {
  return {
    name: 'late-writes',
    lateWrites: true,
    async inject(env, random) {
      await sleep(200 + random() * 400);
      const holding = await holdWrites(env, holdMs);
      // At least one write is held; the channel keeps holding a while longer.
      await sleep(faultMs);
      holding.release();
      // The writes still held land within holdMs of the fault's end.
      await sleep(holdMs);
      return { ...none(), recoveredAt: Date.now(), note: `${holding.held()} write(s) held ${holdMs} ms on ${holding.channelId}` };
    },
  };
}

/** The pushing hub of two is killed while its write is held at the channel; the write lands after the standby took over. */
export function lateWriteFailover(holdMs: number): Fault {
  return {
    name: 'late-write-failover',
    lateWrites: true,
    async inject(env, random) {
      await sleep(200 + random() * 400);
      const holding = await holdWrites(env, holdMs);
      const index = await pushingHub(env);
      const victim = env.hubs[index >= 0 ? index : 0]!;
      await victim.kill();
      holding.release();
      const recoveredAt = Date.now() + holdMs;
      await sleep(holdMs);
      await victim.start().catch(() => undefined);
      return { ...none(), kills: 1, failovers: 1, recoveredAt, note: `${holding.held()} write(s) held ${holdMs} ms on ${holding.channelId} when the pusher died` };
    },
  };
}
