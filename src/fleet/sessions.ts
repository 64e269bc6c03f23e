/**
 * Each agent session's last prompt size (CCR's last-usage long-context rule), shared by the
 * fleet. A session's requests land on whichever instance the balancer picks, and the rule
 * needs the previous answer's prompt wherever the next request goes. Each answer's figure is
 * published; every instance keeps every session's in its own bounded table, so routing reads
 * memory, never Redis. What it costs: one small PUBLISH per answer that names a session.
 *
 * An instance that joins (or a Redis that was down) learns a session at its next answer: the
 * rule then goes without its figure for that one request, as it does for a session's first.
 */
import type { SessionUsage } from '../routing/contract.ts'
import { MAX_SESSION_ID_CHARS } from '../routing/scenario.ts'
import type { FleetLink } from './keys.ts'

interface Message {
  /** The publishing instance (its own messages come back and are skipped). */
  readonly i: string
  /** Session id. */
  readonly s: string
  /** Prompt tokens. */
  readonly t: number
}

/** The figure in a message from another instance, or undefined (own or malformed). */
export function sessionUpdateOf(raw: string, self: string): { id: string; tokens: number } | undefined {
  let m: Partial<Message>
  try {
    m = JSON.parse(raw) as Partial<Message>
  } catch {
    return undefined
  }
  if (typeof m !== 'object' || m === null || m.i === self) return undefined
  const { s, t } = m
  if (typeof s !== 'string' || s === '' || s.length > MAX_SESSION_ID_CHARS) return undefined
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) return undefined
  return { id: s, tokens: t }
}

/** `local`, with every instance's answers written into it too. Subscribes at once; never throws. */
export function fleetSessions(o: FleetLink & { readonly local: SessionUsage }): SessionUsage {
  const { redis, keys, instanceId, local } = o
  void redis.subscribe(keys.sessions, (raw) => {
    const u = sessionUpdateOf(raw, instanceId)
    if (u) local.set(u.id, u.tokens)
  }).catch(() => undefined)
  return {
    get: (id) => local.get(id),
    set(id, tokens) {
      local.set(id, tokens)
      // A down Redis costs nothing here: publish resolves either way, the link reports it.
      if (redis.usable()) void redis.publish(keys.sessions, JSON.stringify({ i: instanceId, s: id, t: tokens }))
    },
  }
}
