/**
 * Sends an active performance test through the same upstream path as live traffic
 * (translation, auth, breakers, the provider's rate limits) to exactly one target: a probe
 * never fails over, and it is not billed or logged as a client request.
 */
import type { Deps } from '../deps.ts'
import { httpStatusOf, messageOf } from '../errors.ts'
import { parseTarget } from '../routing/target.ts'
import type { ProbeOutcome, ProbeRequest, ProbeSender } from '../perf/types.ts'
import { attemptTarget } from './attempt.ts'
import { streamBody } from './stream.ts'
import { newContext, routed } from './context.ts'
import type { ClientRequest, PlannedTarget } from './types.ts'
import { usageFromJson } from '../formats/index.ts'

export function createProbeSender(deps: Deps): ProbeSender {
  return (req) => sendProbe(req, deps)
}

async function sendProbe(p: ProbeRequest, deps: Deps): Promise<ProbeOutcome> {
  const start = deps.now()
  const parsed = parseTarget(p.target)
  const provider = parsed && deps.config.providers.find((x) => x.name === parsed.provider)
  if (!parsed || !provider) {
    return { ok: false, status: 404, error: `Unknown target "${p.target}"`, totalMs: 0, outputTokens: 0 }
  }
  const t: PlannedTarget = { key: p.target, provider, model: parsed.model, tier: 'probe', source: 'primary' }
  const req: ClientRequest = {
    id: `probe_${Math.floor(start).toString(36)}`,
    format: 'anthropic',
    body: p.body,
    stream: p.body.stream === true,
    headers: new Headers(),
    query: '',
    signal: p.signal,
    receivedAt: start,
  }
  const rc = newContext(req, deps)
  routed(rc, {
    scenario: 'explicit',
    body: p.body,
    plan: [t],
    tokens: deps.tokens.breakdown(p.body),
  })
  const a = await attemptTarget(rc, t)
  if (!a.ok) {
    return {
      ok: false,
      status: httpStatusOf(a.error.error),
      error: messageOf(a.error.error),
      totalMs: deps.now() - start,
      outputTokens: 0,
    }
  }
  const { up } = a.value
  if (up.kind === 'json') {
    const usage = usageFromJson(provider.format, up.body)
    a.value.timer.finish({ ok: true, outputTokens: usage?.outputTokens })
    a.value.release(usage)
    return {
      ok: true,
      status: 200,
      totalMs: deps.now() - start,
      outputTokens: usage?.outputTokens ?? 0,
      inputTokens: usage?.inputTokens,
    }
  }
  let ttftMs: number | undefined
  const timer = {
    ...a.value.timer,
    firstToken: () => {
      ttftMs ??= deps.now() - start
      a.value.timer.firstToken()
    },
  }
  const ended = new Promise<ProbeOutcome>((resolve) => {
    const body = streamBody(rc, { ...a.value, timer, up }, (end) => {
      a.value.timer.finish({ ok: end.ok, error: end.error, outputTokens: end.usage?.outputTokens })
      a.value.release(end.usage)
      resolve({
        ok: end.ok,
        status: 200,
        totalMs: deps.now() - start,
        outputTokens: end.usage?.outputTokens ?? 0,
        ...(ttftMs === undefined ? {} : { ttftMs }),
        ...(end.usage ? { inputTokens: end.usage.inputTokens } : {}),
        ...(end.error ? { error: messageOf(end.error) } : {}),
      })
    })
    void drain(body)
  })
  return ended
}

async function drain(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader()
  try {
    for (;;) if ((await reader.read()).done) return
  } catch { /* the stream's onEnd reports the failure */ }
}
