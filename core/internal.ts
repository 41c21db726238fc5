/**
 * The internal entry for the hub's own modules (as nats.js keeps `internal_mod.ts` beside `mod.ts`):
 * everything the public SDK exports about errors, plus the errors only the host raises. Connectors never
 * import this; they import `core/sdk.ts` (the package's `stockrelay` entry) and the kit only.
 */
export * from './errors.ts';
export * from './host-errors.ts';
