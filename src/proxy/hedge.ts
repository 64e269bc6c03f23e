/**
 * Hedged streams (`Router.hedge`, off by default): when a stream's first event is later than
 * its target's usual p95 (resilience/attempt-budget.ts `slowFirstEventMs`), the next candidate
 * is started too, and whichever commits first answers; the other is cancelled. The hedge is
 * charged to the global retry budget, so hedging never adds more load than retries may.
 */
import type { Result } from '../lib/result.ts'
import { timerDelay } from '../lib/clock.ts'
import { slowFirstEventMs } from '../resilience/attempt-budget.ts'
import { type AttemptFailure, type AttemptOk, attemptTarget } from './attempt.ts'
import type { RequestContext } from './context.ts'
import type { PlannedTarget } from './types.ts'

type Outcome = Result<AttemptOk, AttemptFailure>

export interface Hedged {
  readonly outcome: Outcome
  /** The candidate started as a hedge, when one was (it counts as tried). */
  readonly hedge?: PlannedTarget
}

/** The request with its own abort: cancelling a losing try must not touch the client's signal. */
function cancellable(ctx: RequestContext): { rc: RequestContext; cancel: () => void } {
  const ac = new AbortController()
  const onClient = () => ac.abort(ctx.req.signal.reason)
  if (ctx.req.signal.aborted) ac.abort()
  else ctx.req.signal.addEventListener('abort', onClient, { once: true })
  return {
    rc: { ...ctx, req: { ...ctx.req, signal: ac.signal } },
    cancel: () => {
      ctx.req.signal.removeEventListener('abort', onClient)
      ac.abort()
    },
  }
}

/** Ends a try that lost the race: its stream is aborted and its slot freed, with no verdict on the target. */
function discard(o: Outcome): void {
  if (!o.ok) return
  const a = o.value
  if (a.up.kind === 'stream') {
    a.up.abort({ kind: 'client_closed' })
    void a.up.reader.cancel().catch(() => undefined)
  }
  a.timer.finish({ ok: false, error: { kind: 'client_closed' } })
  a.release()
}

/**
 * After how many ms without a first event a try of `t` is hedged with `rest[0]`; undefined when
 * it is not (no next candidate, not a stream, `Router.hedge` off, or too few samples). The
 * pipeline asks first, so an unhedged try (the usual case) goes straight to `attemptTarget`.
 */
export function hedgeAfterMs(
  ctx: RequestContext,
  t: PlannedTarget,
  rest: readonly PlannedTarget[],
): number | undefined {
  const { req, deps } = ctx
  return rest[0] && req.stream && deps.config.router.hedge
    ? slowFirstEventMs(deps.routing.firstEventHistory?.(t), deps.config.router.minSamples)
    : undefined
}

/**
 * Tries `t` (`rest[0]` is where a failover would go), hedged with `rest[0]` after `afterMs`
 * without a first event (`hedgeAfterMs`, which the caller has already asked).
 */
export async function attemptHedged(
  ctx: RequestContext,
  t: PlannedTarget,
  hedging: { readonly rest: readonly PlannedTarget[]; readonly afterMs: number },
): Promise<Hedged> {
  const { deps } = ctx
  const { rest, afterMs: after } = hedging
  const next = rest[0]
  if (next === undefined) return { outcome: await attemptTarget(ctx, t, next) }
  const first = cancellable(ctx)
  const primary = attemptTarget(first.rc, t, next)
  let timer: ReturnType<typeof setTimeout> | undefined
  const slow = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), timerDelay(Math.max(1, after)))
  })
  const early = await Promise.race([primary, slow])
  clearTimeout(timer)
  if (early !== 'slow' || deps.routing.hedge?.() !== true) return { outcome: early === 'slow' ? await primary : early }
  const second = cancellable(ctx)
  const hedge = attemptTarget(second.rc, next, rest[1])
  const tagged = [primary.then((o) => ({ o, i: 0 })), hedge.then((o) => ({ o, i: 1 }))]
  const winner = await Promise.race(tagged)
  if (!winner.o.ok) {
    // The first to finish failed: the other may still answer.
    const other = await tagged[1 - winner.i]!
    return { outcome: other.o.ok ? other.o : winner.o, hedge: next }
  }
  const [, loser] = winner.i === 0 ? [first, second] : [second, first]
  loser.cancel()
  void tagged[1 - winner.i]!.then((l) => discard(l.o))
  return { outcome: winner.o, hedge: next }
}
