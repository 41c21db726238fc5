import { ErrorCodes, StockrelayError } from '../errors.ts';

/**
 * A channel-state write refused by the database because another process claimed the channel since
 * (its lease epoch is newer than the writer's). The writer has lost the channel and must stop pushing.
 */
export class ChannelFencedError extends StockrelayError {
  override name = 'ChannelFencedError';
  readonly channelId: string;
  readonly epoch: number;
  constructor(channelId: string, epoch: number) {
    super(ErrorCodes.CHANNEL_FENCED, `channel "${channelId}": state write refused: this process's lease (epoch ${epoch}) was taken over by another`);
    this.channelId = channelId;
    this.epoch = epoch;
  }
}

export const isChannelFencedError = (err: unknown): err is ChannelFencedError =>
  err instanceof Error && (err as { code?: unknown }).code === ErrorCodes.CHANNEL_FENCED;
