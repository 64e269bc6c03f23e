/**
 * The management guard: a token bucket per client (its API-key fingerprint; clients with no
 * key share one bucket, which only loopback callers can reach when APIKEY is unset), a 429 in
 * the Anthropic error shape when a bucket is empty, and one audit line per management action:
 * who (key fingerprint, never the key), what (method and path, never the query or body),
 * when, and the answer's status. Reads (GET, HEAD, OPTIONS) are rate-limited like any call but
 * not audited: a dashboard polling every few seconds would otherwise bury the changes.
 */
import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { type Bucket, bucketFull, bucketTake, perMinute } from '../resilience/bucket.ts'
import { LruMap } from '../lib/lru.ts'
import { errorResponse } from '../proxy/respond.ts'
import { presentedKey } from './auth.ts'
import { requestIdOf } from './request-id.ts'

/** One audit line's fields. */
export interface AuditEntry {
  readonly action: string
  readonly actor: string
  readonly at: string
  readonly status: number
}

export interface ManagementGuardOptions {
  readonly now: () => number
  /** Requests a client may make per minute (bursting up to this many). Default 60. */
  readonly perMinute?: number
  readonly audit: (entry: AuditEntry) => void
  /** Clients remembered at most; the least recently seen is forgotten first. Default 10 000. */
  readonly maxClients?: number
}

/** Whether a call with this method is a change worth an audit line (anything but a read). */
export function isAudited(method: string): boolean {
  return !READS.has(method.toUpperCase())
}
const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Who is calling, without the key: `key:` + the first 12 hex digits of its SHA-256, or `anonymous`. */
export function clientFingerprint(h: Headers): string {
  const k = presentedKey(h)
  return k ? `key:${createHash('sha256').update(k).digest('hex').slice(0, 12)}` : 'anonymous'
}

/** Per-client token buckets, bounded: a flood of distinct keys cannot grow memory without end. */
export class ClientBuckets {
  readonly #buckets: LruMap<string, Bucket>
  readonly #params: ReturnType<typeof perMinute>

  constructor(limitPerMinute: number, maxClients: number) {
    this.#params = perMinute(limitPerMinute)
    this.#buckets = new LruMap(Math.max(1, maxClients))
  }

  /** Takes one token for `client` at `now`; `waitMs` says when the next one will be there. */
  take(client: string, now: number): { ok: boolean; waitMs: number } {
    const before = this.#buckets.get(client) ?? bucketFull(now, this.#params)
    const r = bucketTake(before, 1, now, this.#params)
    // Re-inserted, so Map order is least-recently-seen first.
    this.#buckets.setNewest(client, r.bucket)
    return { ok: r.ok, waitMs: r.waitMs }
  }

  get size(): number {
    return this.#buckets.size
  }
}

/**
 * Rate-limits and audits management routes. Mount it on `/api/*`, `/performance/*` and
 * `/v1/token-audit`, after auth (so a wrong key is refused without using up a bucket).
 * Every call takes a token; only changes (see `isAudited`) write an audit line.
 */
export function managementGuard(options: ManagementGuardOptions): MiddlewareHandler {
  const { now, audit, perMinute: limit = 60, maxClients = 10_000 } = options
  const buckets = new ClientBuckets(limit, maxClients)
  return async function managementGuard(c, next) {
    const actor = clientFingerprint(c.req.raw.headers)
    const action = `${c.req.method} ${c.req.path}`
    const audited = isAudited(c.req.method)
    const t = now()
    const at = new Date(t).toISOString()
    const r = buckets.take(actor, t)
    if (!r.ok) {
      if (audited) audit({ action, actor, at, status: 429 })
      const message = `Too many management requests: at most ${limit} a minute per client: retry in ${
        Math.ceil(r.waitMs / 1000)
      } s`
      return errorResponse({ id: requestIdOf(c), format: 'anthropic' }, {
        kind: 'rate_limited',
        retryAfterMs: r.waitMs,
        message,
      })
    }
    await next()
    if (audited) audit({ action, actor, at, status: c.res.status })
  }
}
