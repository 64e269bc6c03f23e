/**
 * A token bucket as an immutable value: `tokens` at time `at`, refilling linearly at
 * `refillPerMs` up to `capacity`. Used for RPM (cost 1 per request) and TPM (cost = the
 * estimated tokens, settled later with the reported usage). Tokens never go below 0 or
 * above capacity.
 */
export interface Bucket {
  readonly tokens: number
  readonly at: number
}

export interface BucketParams {
  readonly capacity: number
  readonly refillPerMs: number
}

/** A full bucket at `now`. */
export function bucketFull(now: number, p: BucketParams): Bucket {
  return { tokens: Math.max(0, p.capacity), at: now }
}

/** Bucket params for a per-minute limit (rpm or tpm): the whole minute's budget may burst. */
export function perMinute(limit: number): BucketParams {
  return { capacity: limit, refillPerMs: limit / 60_000 }
}

function clamp(tokens: number, p: BucketParams): number {
  return Math.min(Math.max(0, p.capacity), Math.max(0, tokens))
}

/** The bucket refilled up to `now` (time never runs backwards here: an older `now` changes nothing). */
export function bucketRefill(b: Bucket, now: number, p: BucketParams): Bucket {
  if (now <= b.at) return { tokens: clamp(b.tokens, p), at: b.at }
  return { tokens: clamp(b.tokens + (now - b.at) * Math.max(0, p.refillPerMs), p), at: now }
}

/**
 * Takes `cost` tokens if there are enough; otherwise leaves the bucket as is and says how long
 * until there will be. A cost above capacity is clamped to capacity, so a huge request waits
 * for a full bucket rather than forever.
 * @example bucketTake({ tokens: 0, at: 0 }, 1, 0, { capacity: 60, refillPerMs: 0.001 }).waitMs // 1000
 */
export function bucketTake(
  b: Bucket,
  cost: number,
  now: number,
  p: BucketParams,
): { bucket: Bucket; ok: boolean; waitMs: number } {
  const filled = bucketRefill(b, now, p)
  const need = Math.min(Math.max(0, cost), Math.max(0, p.capacity))
  if (filled.tokens >= need) return { bucket: { ...filled, tokens: filled.tokens - need }, ok: true, waitMs: 0 }
  const rate = Math.max(0, p.refillPerMs)
  // At least 1 ms: a refusal that says "wait 0" would make a caller spin.
  const waitMs = rate > 0 ? Math.max(1, (need - filled.tokens) / rate) : Number.POSITIVE_INFINITY
  return { bucket: filled, ok: false, waitMs }
}

/** Gives `amount` tokens back (a reservation that was not used), never above capacity. */
export function bucketRefund(b: Bucket, amount: number, p: BucketParams): Bucket {
  return { tokens: clamp(b.tokens + Math.max(0, amount), p), at: b.at }
}

/**
 * Settles a reservation of `reserved` tokens against the `actual` usage reported later:
 * refunds the difference, or takes the extra (down to 0 at most: the bucket never owes).
 */
export function bucketSettle(b: Bucket, reserved: number, actual: number, p: BucketParams): Bucket {
  return { tokens: clamp(b.tokens + (Math.max(0, reserved) - Math.max(0, actual)), p), at: b.at }
}
