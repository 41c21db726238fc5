import type { ConnectorStateStore } from '../sdk.ts';

/**
 * Connector state kept in this process only: for the conformance kit and connector unit tests, where no
 * ledger database exists. A hub always hands connectors the durable store of its ledger instead.
 */
export function memoryConnectorState(initial: Record<string, string> = {}): ConnectorStateStore & { entries(): Record<string, string> } {
  const values = new Map(Object.entries(initial));
  return {
    async get(key) {
      return values.get(key);
    },
    async set(key, value) {
      values.set(key, value);
    },
    async delete(key) {
      values.delete(key);
    },
    entries: () => Object.fromEntries(values),
  };
}
