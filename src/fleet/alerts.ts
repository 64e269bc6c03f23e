/**
 * Alert webhooks once per fleet: for a condition every instance sees alike (a shared breaker,
 * the shared test budget), each instance's alert engine fires on its own, and the first to
 * report a transition claims it in Redis; the others stay quiet. A key per rule and subject
 * holds the last transition delivered (`fire` or `resolve`): a claim succeeds only when it
 * changes it, atomically. Redis unusable: the claim succeeds (a webhook may then come once
 * per instance; one lost is worse than one twice).
 */
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

/** KEYS state; ARGV kind, ttlMs: 1 when this transition is new to the fleet (and now claimed). */
const CLAIM = script(`if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

/** A fleet's transition outlives any instance's memory of it for this long. */
const STATE_TTL_MS = 86_400_000

export interface AlertTransition {
  readonly kind: 'fire' | 'resolve'
  readonly alert: { readonly rule: string; readonly subject: string }
}

export class FleetAlertGate {
  readonly #o: Pick<FleetLink, 'redis' | 'keys' | 'instanceId'>

  constructor(o: Pick<FleetLink, 'redis' | 'keys' | 'instanceId'>) {
    this.#o = o
  }

  get instance(): string {
    return this.#o.instanceId
  }

  /** Whether this instance delivers transition `e` (false: another instance already did). */
  async claim(e: AlertTransition): Promise<boolean> {
    if (!this.#o.redis.usable()) return true
    const r = await this.#o.redis.run(CLAIM, [this.#o.keys.alert(e.alert.rule, e.alert.subject)], [
      e.kind,
      STATE_TTL_MS,
    ])
    return r !== 0
  }
}
