/**
 * Mid-stream continuation, the pipeline side: after a committed stream broke, send the
 * client's request again with the text it already has as an assistant prefill, to the same
 * target once when the failure looks transient and then to the rest of the plan, and hand the
 * first stream that commits to stream.ts, which splices it in (formats/continuation/).
 */
import type { ProxyError } from '../errors.ts'
import { markPrefix, type StreamRecord, withInstruction, withPrefill } from '../formats/index.ts'
import { type AttemptOk, attemptTarget } from './attempt.ts'
import type { RequestContext } from './context.ts'
import type { PlannedTarget, UpstreamOk } from './types.ts'

/** A stream is continued at most this often: a target that keeps cutting gets a clean error. */
export const MAX_CONTINUATIONS = 2

type Continuable = RequestContext & { readonly remaining: readonly PlannedTarget[] }

/** The request may continue a broken stream: the pipeline left it the rest of its plan. */
export function continuable(rc: Partial<RequestContext>): rc is Continuable {
  return rc.remaining !== undefined && rc.req !== undefined && rc.deps !== undefined && rc.trace !== undefined &&
    rc.body !== undefined
}

type StreamOk = AttemptOk & { up: Extract<UpstreamOk, { kind: 'stream' }> }

/** A cut or an upstream error event may pass; a stall (idle timeout) says the target is stuck. */
function transient(e: ProxyError): boolean {
  return e.kind === 'stream_broken' || e.kind === 'upstream_network' ||
    (e.kind === 'upstream_status' && (e.status === 429 || e.status >= 500))
}

/** Where to continue after `e` on `t`: `t` again once if `e` looks transient, then the rest of the plan. */
export function continuationCandidates(
  t: PlannedTarget,
  e: ProxyError,
  rest: readonly PlannedTarget[],
): PlannedTarget[] {
  return [...(transient(e) ? [t] : []), ...rest.filter((r) => r.key !== t.key)]
}

/** DeepSeek continues a trailing assistant message only with `prefix: true`. */
const wantsPrefixFlag = (t: PlannedTarget) =>
  t.provider.format === 'openai' && /deepseek/i.test(`${t.provider.name} ${t.provider.baseUrl}`)

/** The target answered the prefill as a bad request: it takes no trailing assistant message. */
function rejectsPrefill(e: ProxyError): boolean {
  return e.kind === 'invalid_request' || (e.kind === 'upstream_status' && (e.status === 400 || e.status === 422))
}

/** How a continuation asks for the rest of the answer: a prefill, or in words (`withInstruction`). */
export type ContinuationStyle = 'prefill' | 'instruction'

export interface Continuation {
  readonly t: PlannedTarget
  readonly a: StreamOk
  readonly style: ContinuationStyle
}

/**
 * Tries the candidates in turn; the first whose stream commits is returned. Each is asked with
 * the prefill first; a target that rejects it (a 400) is asked once more with the
 * instruction-style continuation (`withInstruction`), and is remembered in `noPrefill` so a
 * later continuation of the same stream asks it that way at once. A target that fails
 * otherwise, or answers JSON, is passed over; undefined when nothing could continue (the
 * client then gets the well-formed error it gets today).
 */
export async function openContinuation(
  rc: RequestContext,
  rec: StreamRecord,
  { candidates, noPrefill }: { readonly candidates: readonly PlannedTarget[]; readonly noPrefill: Set<string> },
): Promise<Continuation | undefined> {
  const { req, deps } = rc
  const text = rec.text()
  const prefilled = withPrefill(rc.body, text, req.format)
  // Nothing to prefill (only thinking reached the client): the request as it was, either way.
  const instructed = prefilled === rc.body ? undefined : withInstruction(rc.body, text, req.format)
  for (let i = 0; i < candidates.length; i++) {
    const t = candidates[i] as PlannedTarget
    const styles: ContinuationStyle[] = noPrefill.has(t.key) && instructed
      ? ['instruction']
      : ['prefill', ...(instructed ? ['instruction' as const] : [])]
    for (const style of styles) {
      if (req.signal.aborted || deps.now() >= rc.deadlineAt) return undefined
      const body = style === 'prefill' ? prefilled : instructed ?? prefilled
      const outcome = await attemptTarget(
        { ...rc, body, ...(style === 'prefill' && wantsPrefixFlag(t) ? { finishBody: markPrefix } : {}) },
        t,
        candidates[i + 1],
      )
      if (!outcome.ok) {
        if (outcome.error.error.kind === 'client_closed') return undefined
        if (style === 'prefill' && instructed && rejectsPrefill(outcome.error.error)) {
          noPrefill.add(t.key)
          continue
        }
        break
      }
      const a = outcome.value
      if (a.up.kind === 'stream') return { t, a: { ...a, up: a.up }, style }
      // An upstream that ignored `stream: true` cannot be spliced event by event.
      a.timer.finish({ ok: true })
      a.release()
      break
    }
  }
  return undefined
}
