/** The dispatcher paces pushes with the one token bucket of stockrelay (see core/token-bucket.ts). */
export { TokenBucket, type BucketClock, type BucketTake } from '../token-bucket.ts';
