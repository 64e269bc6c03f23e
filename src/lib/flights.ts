/**
 * One piece of work per key at a time: a caller that asks for a key already in flight gets the
 * same promise instead of starting the work again (an access token being exchanged, an image
 * being described). The key is free again once the work settles.
 */
export class SharedFlights<K, V> {
  readonly #flights = new Map<K, Promise<V>>()

  /** `work()`'s promise for `key`, or the one already in flight for it. */
  run(key: K, work: () => Promise<V>): Promise<V> {
    let p = this.#flights.get(key)
    if (!p) {
      p = work().finally(() => this.#flights.delete(key))
      this.#flights.set(key, p)
    }
    return p
  }
}
