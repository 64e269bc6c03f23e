/**
 * Every fleet key, hash-tagged so the keys one script touches share a Cluster slot: a
 * provider's limit keys under `{lim:NAME}`, breakers and holds under `{board}`, members
 * under `{members}`. Names from config or clients are URI-encoded, so no brace in them can
 * move a key to another slot.
 */
import type { FleetRedis } from './redis.ts'

/** What every shared part is built on: the Redis link, the fleet's keys, this instance's id. */
export interface FleetLink {
  readonly redis: FleetRedis
  readonly keys: FleetKeys
  readonly instanceId: string
}

const tag = (s: string): string => encodeURIComponent(s)

export interface FleetKeys {
  /** `Fleet.keyPrefix` (the response cache puts its entries under it). */
  readonly prefix: string
  readonly members: string
  readonly memberExpiry: string
  readonly breakers: string
  readonly holds: string
  readonly events: string
  probe(target: string): string
  limits(provider: string): { readonly rpm: string; readonly tpm: string; readonly slots: string }
  usage(day: string): string
  /** Named API keys' usage of a day (a hash per day, field = process + key name), by NAME, never the key. */
  keyUsage(day: string): string
  readonly usageDays: string
  readonly samples: string
  readonly leader: string
  readonly perfBudget: string
  readonly perfResults: string
  dedup(hash: string): string
  /** A named API key's day spend (a hash per day, field = key name) and rpm bucket; by NAME, never the key. */
  apiKey(name: string): { readonly spend: string; readonly rpm: string }
  /** Responses API answers (for `previous_response_id` and `GET /v1/responses/{id}`), and their index by age. */
  response(id: string): string
  readonly responseIndex: string
  /** The id of the latest kept answer holding an item, for `item_reference`. */
  responseItem(itemId: string): string
  /** Where a deleted answer is announced, so each instance forgets its own copy. */
  readonly responseDeleted: string
  /** An alert transition already delivered by some instance. */
  alert(rule: string, subject: string): string
  /** Where each answer's prompt size per agent session is announced (CCR's last-usage rule). */
  readonly sessions: string
}

export function fleetKeys(prefix: string): FleetKeys {
  return {
    prefix,
    members: `${prefix}{members}:info`,
    memberExpiry: `${prefix}{members}:expiry`,
    breakers: `${prefix}{board}:breakers`,
    holds: `${prefix}{board}:holds`,
    events: `${prefix}{board}:events`,
    probe: (target) => `${prefix}{board}:probe:${tag(target)}`,
    limits: (provider) => {
      const base = `${prefix}{lim:${tag(provider)}}`
      return { rpm: `${base}:rpm`, tpm: `${base}:tpm`, slots: `${base}:slots` }
    },
    usage: (day) => `${prefix}{usage}:${day}`,
    keyUsage: (day) => `${prefix}{usage}:keys:${day}`,
    usageDays: `${prefix}{usage}:days`,
    samples: `${prefix}{samples}:digests`,
    leader: `${prefix}{perf}:leader`,
    perfBudget: `${prefix}{perf}:budget`,
    perfResults: `${prefix}{perf}:results`,
    dedup: (hash) => `${prefix}{dedup:${tag(hash)}}`,
    apiKey: (name) => ({ spend: `${prefix}{keys}:spend`, rpm: `${prefix}{keys}:rpm:${tag(name)}` }),
    response: (id) => `${prefix}{responses}:r:${tag(id)}`,
    responseIndex: `${prefix}{responses}:index`,
    responseItem: (itemId) => `${prefix}{responses}:i:${tag(itemId)}`,
    responseDeleted: `${prefix}{responses}:deleted`,
    alert: (rule, subject) => `${prefix}{alerts}:${tag(rule)}:${tag(subject)}`,
    sessions: `${prefix}{sessions}:usage`,
  }
}
