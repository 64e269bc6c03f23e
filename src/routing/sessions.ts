import type { SessionUsage } from './contract.ts'

/**
 * The last reported input tokens per Claude Code session, for CCR's long-context rule
 * (`lastUsage.input_tokens > threshold`). A small LRU: CCR keeps 100 sessions.
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
