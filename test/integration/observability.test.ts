/**
 * What operators read after real traffic: usage and cost, drift, audits, latencies, the plan,
 * Prometheus metrics and the per-request log line.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { anthropicBody, openaiBody, testConfigFile, testProxy } from './helpers.ts'

const priced = testConfigFile({}, {})
;(priced.Providers as Record<string, unknown>[])[1]!.pricing = { input_per_million: 1, output_per_million: 2 }

describe('observability after traffic', () => {
  it('usage and cost per tier and per provider,model; unknown prices counted apart, never as $0', async () => {
    const p = await testProxy(priced)
    for (let i = 0; i < 3; i++) assert.equal((await p.post('/v1/messages', anthropicBody('oai,mock-o'))).status, 200)
    assert.equal((await p.post('/v1/messages', anthropicBody('anth,mock-a', { stream: true }))).status, 200)
    await new Promise((r) => setTimeout(r, 20))
    const u = (await (await p.app.request('/v1/usage')).json()) as {
      total: { requests: number; outputTokens: number; costUsd: number; unknownCostRequests: number }
      targets: Record<string, { requests: number; costUsd: number }>
    }
    assert.equal(u.targets['oai,mock-o']?.requests, 3)
    assert.equal(u.total.requests, 4)
    assert.equal(u.total.outputTokens, 4 * 10, 'the mock sends 10 tokens by default')
    assert.equal(u.total.unknownCostRequests, 1, 'the unpriced anth model is not billed as zero')
    assert.ok((u.targets['oai,mock-o']?.costUsd ?? 0) > 0)
    await p.close()
  })

  it('drift per tier compares our estimate with the reported input tokens, and the audit keeps the breakdown', async () => {
    const p = await testProxy()
    const body = anthropicBody('oai,mock-o', {
      system: 'You are terse. '.repeat(50),
      messages: [{ role: 'user', content: 'hello there '.repeat(100) }],
    })
    await (await p.post('/v1/messages', body)).text()
    const d = (await (await p.app.request('/v1/token-drift')).json()) as {
      tiers: Record<string, { samples: number; lastPct: number }>
    }
    const tier = Object.values(d.tiers)[0]
    assert.equal(tier?.samples, 1)
    assert.ok(Number.isFinite(tier?.lastPct))
    const a = (await (await p.app.request('/v1/token-audit')).json()) as {
      entries: { estimate: { total: number; system: number; messages: number }; reported?: number }[]
    }
    const e = a.entries.at(-1)!
    assert.ok(e.estimate.system > 0 && e.estimate.messages > 0)
    assert.equal(e.estimate.total >= e.estimate.system + e.estimate.messages, true)
    // The audit shows the one estimate of the request, the one routing used: the same as count_tokens of that body.
    const counted = (await (await p.post('/v1/messages/count_tokens', body)).json()) as { input_tokens: number }
    assert.equal(e.estimate.total, counted.input_tokens)
    assert.ok((e.reported ?? 0) > 0)
    await p.close()
  })

  it('/metrics is valid exposition with ccr_* series that moved with the traffic', async () => {
    const p = await testProxy()
    await (await p.post('/v1/messages', anthropicBody('oai,mock-o:chunks=3', { stream: true }))).text()
    await (await p.post('/v1/chat/completions', openaiBody('anth,mock-a:chunks=3'))).text()
    const res = await p.app.request('/metrics')
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/)
    const text = await res.text()
    const families = parsePrometheusTextFormat(text) as unknown as { name: string; metrics: { value?: string }[] }[]
    const sum = (name: string) =>
      families.find((f) => f.name === name)?.metrics.reduce((n, m) => n + Number(m.value ?? 0), 0) ?? 0
    assert.equal(sum('ccr_requests_total'), 2)
    assert.equal(sum('ccr_output_tokens_total'), 6)
    assert.equal(sum('ccr_active_streams'), 0)
    assert.equal(sum('ccr_peak_active_streams'), 1)
    assert.ok(families.some((f) => f.name === 'ccr_circuit_state'))
    assert.ok(!text.includes('sk-ant-secret-1') && !text.includes('sk-oai-secret-2'))
    await p.close()
  })

  it('/v1/latencies ranks measured targets and /v1/routing/plan explains the order a request would get', async () => {
    const p = await testProxy()
    for (let i = 0; i < 3; i++) await (await p.post('/v1/messages', anthropicBody('claude-sonnet'))).text()
    const l = (await (await p.app.request('/v1/latencies')).json()) as {
      targets: { target: string; samples: number; breaker: string; rank: number }[]
    }
    const def = l.targets.find((t) => t.target === 'oai,gpt-up')
    assert.equal(def?.samples, 3)
    assert.equal(def?.breaker, 'closed')
    const plan = (await (await p.app.request('/v1/routing/plan?scenario=default')).json()) as {
      targets: { target: string; tier: string }[]
    }
    assert.equal(plan.targets[0]?.target, 'oai,gpt-up')
    assert.deepEqual(plan.targets.map((t) => t.tier), ['tier-0', 'tier-1', 'tier-2', 'tier-3'])
    const bad = await p.app.request('/v1/routing/plan?scenario=nonsense')
    assert.equal(bad.status, 400)
    await p.close()
  })

  it('one structured log line per request with id, route and timings, and never a key or the prompt', async () => {
    const p = await testProxy({ ...testConfigFile(), LOG: true, LOG_LEVEL: 'info' })
    const res = await p.post(
      '/v1/messages',
      anthropicBody('oai,mock-o', { messages: [{ role: 'user', content: 'my secret prompt text' }] }),
    )
    const id = res.headers.get('x-request-id')
    await res.text()
    const line = p.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) =>
      l.msg === 'request' && l.id === id
    )
    assert.ok(line, 'request line logged')
    assert.equal(line.target, 'oai,mock-o')
    assert.equal(line.status, 200)
    assert.equal(typeof line.duration_ms, 'number')
    const all = p.logs.join('\n')
    assert.ok(!all.includes('sk-oai-secret-2') && !all.includes('my secret prompt text'))
    await p.close()
  })
})
