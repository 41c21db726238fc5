import type { ChannelListing, ConnectorInstance } from '../sdk.ts';
import { ErrorCodes, PluginError, isStockrelayError, retryAfterOf } from '../internal.ts';
import { abortableDelay } from '../until-aborted.ts';

export interface ReadListingsOptions {
  signal: AbortSignal;
  /** Deadline of one page call, ms. Default 60 s. */
  pageTimeoutMs?: number;
  /** Failed calls of one page tried again (throttles not counted) before the import gives up. Default 5. */
  maxRetries?: number;
  /** Longest wait a throttle may ask for before the import gives up, ms. Default 120 s. */
  maxThrottleWaitMs?: number;
  /** Waits between tries; a parameter so tests need no real timers. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Every listing a channel holds, read page by page, and how many pages that took. */
export interface ListingsRead {
  listings: ChannelListing[];
  pages: number;
}

/**
 * Reads every page of `instance.listListings`, from the first until a page comes without a cursor. A throttled
 * page waits what the channel asked and is read again without spending a try; another retryable failure is
 * tried again with backoff, up to `maxRetries`; anything else ends the import. A connector that hands back a
 * cursor it already gave would loop for ever: that is an error naming the channel.
 */
export async function readAllListings(channelId: string, instance: ConnectorInstance, options: ReadListingsOptions): Promise<ListingsRead> {
  const list = instance.listListings?.bind(instance);
  if (!list) throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, 'its connector cannot list the channel\'s listings (it has no listListings), so there is nothing to import');
  const sleep = options.sleep ?? abortableDelay;
  const pageTimeoutMs = options.pageTimeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 5;
  const maxThrottleWaitMs = options.maxThrottleWaitMs ?? 120_000;
  const listings: ChannelListing[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    let failures = 0;
    let page;
    for (;;) {
      options.signal.throwIfAborted();
      try {
        page = await list(cursor, AbortSignal.any([options.signal, AbortSignal.timeout(pageTimeoutMs)]));
        break;
      } catch (err) {
        if (options.signal.aborted) throw err;
        const code = isStockrelayError(err) ? err.code : undefined;
        if (code === ErrorCodes.CONNECTOR_THROTTLED) {
          const wait = retryAfterOf(err) ?? 1000;
          if (wait > maxThrottleWaitMs) throw err;
          await sleep(wait, options.signal);
          continue;
        }
        const retryable = code === ErrorCodes.CONNECTOR_RETRYABLE || (err instanceof Error && err.name === 'TimeoutError');
        failures += 1;
        if (!retryable || failures > maxRetries) throw err;
        await sleep(retryAfterOf(err) ?? Math.min(30_000, 500 * 2 ** failures), options.signal);
      }
    }
    pages += 1;
    if (!page || !Array.isArray(page.listings)) throw new PluginError(ErrorCodes.PLUGIN_FAILED, channelId, `listListings answered page ${pages} without a listings array`);
    listings.push(...page.listings);
    if (page.cursor === undefined) return { listings, pages };
    if (typeof page.cursor !== 'string' || seen.has(page.cursor)) {
      throw new PluginError(ErrorCodes.PLUGIN_FAILED, channelId, `listListings gave page ${pages} a cursor it had given before: reading on would never end`);
    }
    seen.add(page.cursor);
    cursor = page.cursor;
  }
}
