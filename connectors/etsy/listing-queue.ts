/**
 * Runs read-modify-write jobs one at a time per listing. Etsy's inventory write replaces the whole listing, so two
 * pushes for different SKUs of one listing running at once would each write back the other's stale quantity.
 */
export class ListingQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(listingId: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(listingId) ?? Promise.resolve();
    const next = previous.then(job, job);
    const tail = next.catch(() => undefined);
    this.tails.set(listingId, tail);
    void tail.then(() => {
      if (this.tails.get(listingId) === tail) this.tails.delete(listingId);
    });
    return next;
  }
}
