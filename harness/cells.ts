/**
 * JS cells allocated per call, counted rather than timed (so load does not move them):
 * `heapStats().objectTypeCounts` before and after `n` calls, run with the collector off
 * (`BUN_JSC_useGC=0`). Bun only. Shared by `alloc-count.ts` and `stream-alloc.ts`.
 */
import { heapStats } from 'bun:jsc'

/** The cell types the tables show. */
export const CELL_KINDS = ['Object', 'JSLexicalEnvironment', 'Function', 'Array', 'string', 'Promise'] as const

/** Cells of every type allocated per call of `one`, after `warm` calls that warm caches and the JIT. */
export async function cellsPerCall(one: () => unknown, n: number, warm: number): Promise<Record<string, number>> {
  for (let i = 0; i < warm; i++) await one()
  const before = heapStats().objectTypeCounts as Record<string, number>
  for (let i = 0; i < n; i++) await one()
  const after = heapStats().objectTypeCounts as Record<string, number>
  const per: Record<string, number> = {}
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    per[k] = ((after[k] ?? 0) - (before[k] ?? 0)) / n
  }
  return per
}
