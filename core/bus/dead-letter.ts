/** What a dead letter carries: the reason, and the original payload when there was one. */
export interface DeadLetter {
  kind: 'event' | 'push';
  reason: string;
  /** For events: the original subject and raw payload (base64 when not UTF-8 JSON). */
  subject?: string;
  payload?: unknown;
  /** For events: the inbound stream and sequence the original still sits at (unless the stream's limits removed it). */
  stream?: string;
  streamSequence?: number;
  channelId?: string;
  /**
   * True when the payload did not fit the server's max payload: `payload` is absent, `payloadHead` holds
   * the start of its text and `payloadBytes` its full size; the original is at `stream`/`streamSequence`.
   */
  payloadTruncated?: boolean;
  payloadHead?: string;
  payloadBytes?: number;
  at: string;
  [key: string]: unknown;
}
