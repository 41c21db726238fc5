/** Most SKUs one inventory query may ask for (HTTP batch form, NATS request-reply, MCP tools). */
export const MAX_QUERY_SKUS = 500;
/** Longest SKU accepted in a query; longer ones cannot exist in the ledger's channels anyway. */
export const MAX_SKU_LENGTH = 256;
