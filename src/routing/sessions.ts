import type { SessionUsage } from './contract.ts'

/**
 * The prompt tokens its upstream reported for each agent session's latest answer, for
 * CCR's long-context rule (`lastUsage.input_tokens > threshold`). An LRU of 1,000 sessions
 * (CCR keeps 100).
 */
export function sessionUsageLru(capacity = 1000): SessionUsage {
  const map = new Map<string, number>()
  return {
    get: (id) => map.get(id),
    set(id, tokens) {
      map.delete(id)
      map.set(id, tokens)
      if (map.size > capacity) map.delete(map.keys().next().value as string)
    },
  }
}
