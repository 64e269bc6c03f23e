/**
 * The last N pre-request audits for `GET /v1/token-audit`: each estimate with its component
 * breakdown, completed later with the upstream's reported figure and the drift. Fixed memory:
 * a ring buffer of `size` entries (Config.tokenAuditSize).
 */
import type { TokenEstimate } from './estimate.ts'
import type { DriftLevel } from './drift.ts'

export interface AuditEntry {
  readonly id: string
  /** Milliseconds since the epoch, from the injected clock. */
  readonly at: number
  readonly tier: string
  /** `provider,model` that answered (or was first tried, until usage arrives). */
  readonly target: string
  readonly estimate: TokenEstimate
  readonly reported?: number
  readonly driftPct?: number
  readonly level?: DriftLevel
}

export interface AuditCompletion {
  readonly target?: string
  readonly reported: number
  readonly driftPct?: number
  readonly level?: DriftLevel
}

export class TokenAudit {
  readonly #ring: (AuditEntry | undefined)[]
  #next = 0
  #count = 0

  constructor(size: number) {
    this.#ring = new Array<AuditEntry | undefined>(Math.max(1, size)).fill(undefined)
  }

  /** Append an audit, overwriting the oldest when full. */
  add(entry: AuditEntry): void {
    this.#ring[this.#next] = entry
    this.#next = (this.#next + 1) % this.#ring.length
    this.#count = Math.min(this.#count + 1, this.#ring.length)
  }

  /** Attach the reported figure to the audit `id`; false when it has already been evicted. */
  complete(id: string, done: AuditCompletion): boolean {
    // Completions arrive soon after their audit, so search newest first.
    for (let k = 1; k <= this.#count; k++) {
      const i = (this.#next - k + this.#ring.length) % this.#ring.length
      const e = this.#ring[i]
      if (e?.id === id) {
        this.#ring[i] = { ...e, ...done, target: done.target ?? e.target }
        return true
      }
    }
    return false
  }

  /** Entries oldest first; at most `size`. */
  list(): AuditEntry[] {
    const out: AuditEntry[] = []
    const start = (this.#next - this.#count + this.#ring.length) % this.#ring.length
    for (let k = 0; k < this.#count; k++) {
      const e = this.#ring[(start + k) % this.#ring.length]
      if (e !== undefined) out.push(e)
    }
    return out
  }

  get size(): number {
    return this.#count
  }
}
