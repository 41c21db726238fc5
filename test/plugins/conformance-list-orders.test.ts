import { describe, expect, it } from 'vitest';
import sandbox from '../../connectors/sandbox/index.ts';
import { CHECK_NAMES, type ConformanceReport } from '../../core/tooling/conformance/conformance-report.ts';
import { runConformance } from '../../core/tooling/conformance/run-conformance.ts';
import type { ConnectorContext, ConnectorDefinition, ConnectorInstance, InventoryEvent, OrderPage, SimulatorOptions } from '../../core/sdk.ts';

const STRICT = { simulator: { strictListing: true } as SimulatorOptions };

/** The sandbox with its `listOrders` changed by `change`. */
function sandboxWith(name: string, change: (inner: ConnectorInstance) => ConnectorInstance['listOrders']): ConnectorDefinition {
  const definition = sandbox as unknown as ConnectorDefinition;
  return {
    ...definition,
    name,
    async create(options: Record<string, unknown>, context: ConnectorContext) {
      const inner = await definition.create(options, context);
      return { ...inner, listOrders: change(inner) };
    },
  } as ConnectorDefinition;
}

function listOrdersCheck(report: ConformanceReport) {
  return report.checks.find((c) => c.name === CHECK_NAMES.listOrders);
}

describe('conformance: listOrders', () => {
  it('passes for a connector that lists dropped orders under their webhook ids', async () => {
    expect(listOrdersCheck(await runConformance(sandbox, STRICT))).toMatchObject({ status: 'pass' });
  });

  it('fails a listing that gives orders other ids than their webhooks', async () => {
    const renamed = sandboxWith('renaming-list', (inner) => async (cursor, signal): Promise<OrderPage> => {
      const page = await inner.listOrders!(cursor, signal);
      return { ...page, events: page.events.map((e): InventoryEvent => ({ ...e, id: `${e.id}:listed` })) };
    });
    expect(listOrdersCheck(await runConformance(renamed, STRICT))).toMatchObject({ status: 'fail', detail: expect.stringMatching(/delivered as/) });
  });

  it('fails a listing that loses orders whose webhooks were dropped', async () => {
    const blind = sandboxWith('blind-list', (inner) => async (cursor, signal) => ({ ...(await inner.listOrders!(cursor, signal)), events: [] }));
    expect(listOrdersCheck(await runConformance(blind, STRICT))).toMatchObject({ status: 'fail', detail: expect.stringMatching(/was not listed/) });
  });

  it('is skipped for a connector without listOrders', async () => {
    const without = sandboxWith('no-list', () => undefined);
    expect(listOrdersCheck(await runConformance(without, STRICT))).toMatchObject({ status: 'skip', detail: 'the instance has no listOrders' });
  });
});
