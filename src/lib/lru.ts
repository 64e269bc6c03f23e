/**
 * A `Map` bounded as a least-recently-set table: insertion order is age, so setting a key again
 * makes it the newest and the first key is the oldest. Every table a client can grow (sessions,
 * per-client buckets, remembered thinking blocks, project look-ups) is bounded this one way.
 */
export class LruMap<K, V> extends Map<K, V> {
  readonly #max: number

  /** `max`: entries kept at most (0 keeps none). */
  constructor(max: number) {
    super()
    this.#max = max
  }

  /** Sets `key` as the newest entry, then drops the oldest past the bound. */
  setNewest(key: K, value: V): void {
    this.delete(key)
    this.set(key, value)
    while (this.size > this.#max) this.delete(this.keys().next().value as K)
  }
}
