/**
 * A time-bucketed sliding-window counter, as an immutable value. The window of `windowMs`
 * is split into `buckets` slots aligned to multiples of `windowMs / buckets`; a slot older
 * than the window is dropped on the next write or read. Counting in slots (not one entry per
 * event) keeps memory bounded at 100+ requests per second.
 */
export interface WindowParams {
  readonly windowMs: number
  readonly buckets: number
}

export interface WindowSlot<K extends string> {
  readonly start: number
  readonly counts: Readonly<Partial<Record<K, number>>>
}

export interface SlidingWindow<K extends string> {
  readonly slots: readonly WindowSlot<K>[]
}

/** A window with nothing counted. */
export function emptyWindow<K extends string>(): SlidingWindow<K> {
  return { slots: [] }
}

function slotMs(p: WindowParams): number {
  return Math.max(1, p.windowMs / Math.max(1, Math.floor(p.buckets)))
}

function live<K extends string>(w: SlidingWindow<K>, now: number, p: WindowParams): readonly WindowSlot<K>[] {
  const oldest = now - p.windowMs
  return w.slots.filter((s) => s.start + slotMs(p) > oldest && s.start <= now)
}

/**
 * Adds `n` to counter `key` at time `now`, dropping slots that left the window.
 * @example windowAdd(emptyWindow<'ok' | 'err'>(), 'ok', 1, 1_000, { windowMs: 60_000, buckets: 12 })
 */
export function windowAdd<K extends string>(
  w: SlidingWindow<K>,
  key: K,
  n: number,
  now: number,
  p: WindowParams,
): SlidingWindow<K> {
  const start = Math.floor(now / slotMs(p)) * slotMs(p)
  const slots = live(w, now, p)
  const last = slots[slots.length - 1]
  if (last && last.start === start) {
    const counts = { ...last.counts, [key]: (last.counts[key] ?? 0) + n }
    return { slots: [...slots.slice(0, -1), { start, counts }] }
  }
  const fresh: WindowSlot<K> = { start, counts: { [key]: n } as Partial<Record<K, number>> }
  // A write from the past (clock skew between callers) still lands in time order.
  return { slots: [...slots, fresh].sort((a, b) => a.start - b.start) }
}

/** The sum of counter `key` over the slots still inside the window at `now`. */
export function windowSum<K extends string>(w: SlidingWindow<K>, key: K, now: number, p: WindowParams): number {
  // `live` without the array it builds (the routing plan sums two counters per candidate per request).
  const oldest = now - p.windowMs
  const width = slotMs(p)
  let sum = 0
  for (const s of w.slots) if (s.start + width > oldest && s.start <= now) sum += s.counts[key] ?? 0
  return sum
}
