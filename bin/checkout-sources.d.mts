/** The checkout's source file for `specifier` imported from the file `importer`, when it resolves to this checkout. */
export function checkoutSourceFor(specifier: string, importer: string): string | undefined;
/** Registers a Node resolve hook that maps stockrelay's entries imported in this checkout to its sources. */
export function registerCheckoutSources(): void;

