/**
 * Own-property semantics for objects built from client or config JSON. `obj[key] = v` with a
 * key named `__proto__` sets the object's prototype instead of adding a key (the key is lost,
 * and a client's JSON could choose what every lookup on that object falls back to); and
 * `map[key]` with `constructor` or `toString` finds Object.prototype's members. JSON.parse,
 * spread and Object.fromEntries already define own properties; these cover the rest.
 */

/** `target[key] = value` as an own, enumerable data property, whatever the key is. */
export function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** `map[key]` when `key` is the map's own property; never a member inherited from Object.prototype. */
export function getOwn<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined
}

/** A plain object mapping each entry's key to `fn` of its value, with own-property semantics. */
export function mapValues<T, U>(from: Readonly<Record<string, T>>, fn: (v: T, k: string) => U): Record<string, U> {
  const out: Record<string, U> = {}
  for (const [k, v] of Object.entries(from)) setOwn(out, k, fn(v, k))
  return out
}
