import { LruMap } from '../lib/lru.ts'
import type { SessionUsage } from './contract.ts'

/**
 * The prompt tokens its upstream reported for each agent session's latest answer, for
 * CCR's long-context rule (`lastUsage.input_tokens > threshold`). An LRU of 1,000 sessions
 * (CCR keeps 100).
 */
export function sessionUsageLru(capacity = 1000): SessionUsage {
  const map = new LruMap<string, number>(capacity)
  return {
    get: (id) => map.get(id),
    set: (id, tokens) => map.setNewest(id, tokens),
  }
}
