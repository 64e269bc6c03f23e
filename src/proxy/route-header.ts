/**
 * The `x-switchyard-route` data: the response header every answer carries, and the trailer a
 * stream that broke after the commit point ends with (docs/resilience.md, "Mid-stream
 * continuation"). Headers are sent before the first byte, so what happened later in a stream
 * can only travel in the stream: an SSE comment, which every client format's parser skips.
 */
import { encodeSseComment } from '../formats/index.ts'
import type { RequestTrace } from './types.ts'

/**
 * `default deepseek,deepseek-chat; tier=tier-1; attempts=3; fallback=1`, then `; rule=<name>`
 * when a routing rule chose it and `; skipped=<target> (<why>), …` when models were skipped.
 */
export function routeHeader(trace: Readonly<RequestTrace>): string {
  const head = `${trace.scenario} ${trace.target ?? '-'}`
  const rule = trace.rule === undefined ? '' : `; rule=${trace.rule}`
  const skipped = trace.skipped?.length ? `; skipped=${trace.skipped.join(', ')}` : ''
  return `${head}; tier=${trace.tier ?? '-'}; attempts=${trace.attempts}; fallback=${trace.fallbacks}${rule}${skipped}`
}

/** What became of a stream that broke after the commit point. */
export interface ContinuationNote {
  /** Continuations that were spliced in. */
  readonly continued: number
  /** `completed`: the answer ended well; `failed`: it ended in the error event; `refused`: it was not continued (e.g. a tool call had reached the client). */
  readonly outcome: 'completed' | 'failed' | 'refused'
  /** The targets that served the stream, in order; a continuation with how it asked (`prefill`, `instruction`). */
  readonly via: readonly string[]
}

/**
 * The stream's last bytes when it broke after the commit point, e.g.
 * `: x-switchyard-route: default anth,m; tier=tier-1; attempts=2; fallback=0; continued=1; continuation=completed; via=anth,m > anth,m (prefill)`.
 */
export function routeTrailer(trace: Readonly<RequestTrace>, note: ContinuationNote): string {
  return encodeSseComment(
    `x-switchyard-route: ${routeHeader(trace)}; continued=${note.continued}; continuation=${note.outcome}; via=${
      note.via.join(' > ')
    }`,
  )
}
