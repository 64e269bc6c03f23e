/**
 * `bun run harness recovery`: a primary that is down (503) for `outageMs` and then healthy,
 * with a `fallback` behind it, and one request every `everyMs` through the proxy. Reports
 * whether every request was answered and how long after the primary recovered it served
 * again (the breaker's open interval is capped, so this stays well under 30 s).
 */
export interface RecoveryOptions {
  readonly url: string
  /** `provider,model` the requests name (the primary; the proxy's fallback list does the rest). */
  readonly model: string
  readonly primary: string
  readonly outageMs: number
  readonly everyMs: number
  /** How long to keep sending after the outage ended. */
  readonly afterMs: number
  readonly onProgress?: (line: string) => void
}

export interface RecoveryReport {
  readonly requests: number
  readonly failed: number
  /** Requests served by the primary after it recovered, and the first of them. */
  readonly recoveredAfterMs: number | undefined
  readonly primaryShareAfter: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Sends the requests one at a time and reads who answered from `x-switchyard-route`. */
export async function runRecovery(o: RecoveryOptions): Promise<RecoveryReport> {
  const start = performance.now()
  const served: { at: number; ok: boolean; target: string }[] = []
  while (performance.now() - start < o.outageMs + o.afterMs) {
    const at = performance.now() - start
    const res = await fetch(`${o.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: o.model,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Count with sequence tags.' }],
      }),
    }).catch(() => undefined)
    const target = res?.headers.get('x-switchyard-route')?.split(';')[0]?.split(' ')[1] ?? '-'
    served.push({ at, ok: res?.status === 200, target })
    await res?.body?.cancel().catch(() => undefined)
    o.onProgress?.(`+${(at / 1_000).toFixed(1)} s ${res?.status ?? 'error'} ${target}`)
    await sleep(Math.max(0, o.everyMs - (performance.now() - start - at)))
  }
  // The mock's outage clock starts at the primary's first request, the run's first.
  const back = served.find((s) => s.at >= o.outageMs && s.target === o.primary)
  const after = back ? served.filter((s) => s.at >= back.at) : []
  return {
    requests: served.length,
    failed: served.filter((s) => !s.ok).length,
    recoveredAfterMs: back ? back.at - o.outageMs : undefined,
    primaryShareAfter: after.length ? after.filter((s) => s.target === o.primary).length / after.length : 0,
  }
}
