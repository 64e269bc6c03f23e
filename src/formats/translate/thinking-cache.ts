import { LruMap } from '../../lib/lru.ts'
import type { JsonObject } from '../types.ts'

/** A bounded memory of thinking blocks by tool-call id (insertion-ordered Map as a FIFO). */
export interface ThinkingCache {
  readonly remember: (toolCallId: string, blocks: readonly JsonObject[]) => void
  readonly lookup: (toolCallId: string) => readonly JsonObject[] | undefined
  readonly size: () => number
}

/**
 * Create the cache behind `ctx.onThinking` / `ctx.thinkingLookup`: when an Anthropic upstream
 * answers an OpenAI client with thinking + tool calls, the client's next turn comes back
 * without the thinking blocks, and Anthropic rejects a tool loop whose last assistant turn does
 * not start with one. Re-inserting the remembered blocks keeps thinking on (a hit); on a miss
 * the request translator turns thinking off instead.
 * @example const c = createThinkingCache(1000); c.remember('toolu_1', blocks); c.lookup('toolu_1')
 */
export function createThinkingCache(maxEntries: number): ThinkingCache {
  const map = new LruMap<string, readonly JsonObject[]>(maxEntries)
  return {
    remember(id, blocks) {
      if (blocks.length === 0 || maxEntries <= 0) return
      map.setNewest(id, blocks)
    },
    lookup: (id) => map.get(id),
    size: () => map.size,
  }
}
