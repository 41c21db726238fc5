import type { JsonSchema } from '../../core/sdk.ts';

/** Where one hub SKU lives on eBay: the seller's inventory item SKU and the published offers that list it. */
export interface EbayListingRef {
  /** The inventory item's SKU on eBay (the seller-defined value; may differ from the hub SKU). */
  sku: string;
  /** Published offers of that item, one per marketplace; each gets the same available quantity. */
  offerIds: string[];
}

export interface EbayOptions {
  /** Base URL of eBay's REST APIs. */
  baseUrl: string;
  /**
   * A fixed OAuth user access token (scope `sell.inventory`, `sell.fulfillment`). eBay user tokens live about
   * 2 hours: give `clientId`, `clientSecret` and `refreshToken` instead (or as well) so the channel renews them.
   */
  accessToken?: string;
  /** The app's client id (App ID), for the token endpoint. */
  clientId?: string;
  /** The app's client secret (Cert ID), for the token endpoint. */
  clientSecret?: string;
  /** The seller's refresh token (about 18 months), from the authorization-code grant. */
  refreshToken?: string;
  /** Scopes asked for at each refresh; default `sell.inventory` and `sell.fulfillment`. */
  scopes?: string[];
  /** Key fetches per minute for notification signatures, however many key ids arrive. Default 10. */
  publicKeyFetchesPerMinute?: number;
  /** Hub SKU → eBay inventory item and offers (the host fills in `{}` when the config gives none). */
  listings: Record<string, EbayListingRef>;
  /** Verification token registered with the notification destination; needed to answer eBay's endpoint challenge. */
  verificationToken?: string;
  /** The notification endpoint URL exactly as registered with eBay; part of the challenge hash. */
  endpointUrl?: string;
  /** How long a fetched notification public key is trusted, in ms. eBay recommends about an hour. */
  publicKeyTtlMs?: number;
  /** Parallel keep-alive connections to the API. */
  connections?: number;
}

export const ebayOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl'],
  // A fixed token, or what renews one; a refresh token is useless without the app's credentials.
  anyOf: [{ required: ['accessToken'] }, { required: ['clientId', 'clientSecret', 'refreshToken'] }],
  dependencies: { refreshToken: ['clientId', 'clientSecret'] },
  properties: {
    baseUrl: { type: 'string', format: 'uri', default: 'https://api.ebay.com', description: 'Base URL of eBay REST APIs (https://api.ebay.com, https://api.sandbox.ebay.com, or a simulator).' },
    accessToken: { writeOnly: true, type: 'string', minLength: 1, description: 'A fixed OAuth user access token; lives about 2 h. Prefer clientId + clientSecret + refreshToken.' },
    clientId: { type: 'string', minLength: 1, description: 'The app client id (App ID), for the token endpoint.' },
    clientSecret: { writeOnly: true, type: 'string', minLength: 1, description: 'The app client secret (Cert ID), for the token endpoint.' },
    refreshToken: { writeOnly: true, type: 'string', minLength: 1, description: "The seller's refresh token; user access tokens are renewed with it before they expire." },
    scopes: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'OAuth scopes asked for at each refresh (default sell.inventory and sell.fulfillment).' },
    publicKeyFetchesPerMinute: { type: 'integer', minimum: 1, maximum: 600, default: 10, description: 'Notification public key fetches allowed per minute, whatever key ids arrive.' },
    listings: {
      type: 'object',
      default: {},
      description: 'Hub SKU → { sku: eBay inventory item SKU, offerIds: published offer ids }. A hub SKU missing here is not pushed (not listed). Empty while a channel is being onboarded (stockrelay import writes it).',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['sku', 'offerIds'],
        properties: {
          sku: { type: 'string', minLength: 1, maxLength: 50, description: 'Seller-defined SKU of the eBay inventory item.' },
          offerIds: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 25, uniqueItems: true, description: 'Published offers of the item (at most 25, per bulkUpdatePriceQuantity); each gets the same available quantity.' },
        },
      },
    },
    verificationToken: { writeOnly: true, type: 'string', minLength: 32, maxLength: 80, description: 'Verification token of the notification destination, for the challenge_code handshake.' },
    endpointUrl: { type: 'string', format: 'uri', description: 'Notification endpoint URL as registered with eBay, for the challenge_code handshake.' },
    publicKeyTtlMs: { type: 'integer', minimum: 0, default: 3_600_000, description: 'How long a notification public key is cached, in ms.' },
    connections: { type: 'integer', minimum: 1, maximum: 64, default: 8, description: 'Parallel keep-alive connections to the API.' },
  },
};
