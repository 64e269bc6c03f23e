/**
 * What ccr-rust's tooling reads, after traffic: `/v1/usage` with `total_requests`,
 * `total_failures`, `active_streams` and per-tier rows, `/v1/latencies` rows with `tier`,
 * `ewma_seconds` and `sample_count`; and every answered request counted, also when the
 * upstream reports no usage (its tokens are then estimated, and marked so).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openaiBody, testConfigFile, testProxy } from './helpers.ts'

interface Usage {
  total_requests: number
  total_failures: number
  total_input_tokens: number
  total_output_tokens: number
  total_cost_usd: number
  active_streams: number
  active_requests: number
  tiers: {
    tier: string
    requests: number
    failures: number
    input_tokens: number
    output_tokens: number
    cost_usd: number
    avg_duration_seconds: number
    estimated_requests: number
  }[]
  total: { requests: number; estimatedRequests: number; outputTokens: number }
  by_tier: Record<string, { requests: number }>
}

describe('usage for ccr-rust tooling', () => {
  it('streams from an upstream that reports no usage are all counted, with estimated tokens marked as such', async () => {
    const p = await testProxy()
    // An OpenAI client without stream_options: the pass-through upstream sends no usage chunk.
    for (let i = 0; i < 25; i++) {
      const res = await p.post('/v1/chat/completions', openaiBody('oai,mock-o:chunks=4', { stream: true }))
      assert.equal(res.status, 200)
      assert.doesNotMatch(await res.text(), /"usage"/)
    }
    await new Promise((r) => setTimeout(r, 20))
    const u = (await (await p.app.request('/v1/usage')).json()) as Usage
    assert.equal(u.total_requests, 25)
    assert.equal(u.total.estimatedRequests, 25)
    assert.ok(u.total_input_tokens > 0, 'input tokens from the pre-request estimate')
    assert.ok(u.total_output_tokens > 0, 'output tokens estimated from the streamed characters')
    assert.equal(u.tiers.length, 1)
    assert.equal(u.tiers[0]?.requests, 25)
    assert.equal(u.tiers[0]?.estimated_requests, 25)
    assert.equal(u.by_tier[u.tiers[0]!.tier]?.requests, 25)
    assert.equal(u.active_streams, 0)
    assert.ok((u.tiers[0]?.avg_duration_seconds ?? -1) >= 0)
    await p.close()
  })

  it('failures and reported usage: total_failures counts failed requests; reported usage is not marked estimated', async () => {
    const p = await testProxy(testConfigFile({}, { fallbackToOtherTiers: false }))
    assert.equal(
      (await p.post(
        '/v1/chat/completions',
        openaiBody('oai,mock-o', { stream: true, stream_options: { include_usage: true } }),
      )).status,
      200,
    )
    assert.equal((await p.post('/v1/chat/completions', openaiBody('oai,mock-o:status=500'))).status, 500)
    await new Promise((r) => setTimeout(r, 20))
    const u = (await (await p.app.request('/v1/usage')).json()) as Usage
    assert.ok(u.total_failures >= 1, JSON.stringify(u))
    assert.equal(u.total.estimatedRequests, 0)
    for (
      const key of [
        'total_requests',
        'total_failures',
        'total_input_tokens',
        'total_output_tokens',
        'total_cost_usd',
        'active_streams',
        'active_requests',
      ] as const
    ) {
      assert.equal(typeof u[key], 'number', key)
    }
    await p.close()
  })

  it("/v1/latencies rows carry ccr-rust's tier, ewma_seconds and sample_count beside Switchyard's fields", async () => {
    const p = await testProxy()
    for (let i = 0; i < 3; i++) await (await p.post('/v1/chat/completions', openaiBody('oai,mock-o'))).text()
    const body = (await (await p.app.request('/v1/latencies')).json()) as {
      targets: {
        target: string
        tier: string
        ewma_seconds: number
        sample_count: number
        samples: number
        ewma_latency_ms: number | null
      }[]
    }
    const row = body.targets.find((r) => r.target === 'oai,mock-o')!
    assert.equal(row.tier, 'oai,mock-o')
    assert.equal(row.sample_count, row.samples)
    assert.ok(row.sample_count >= 3)
    assert.equal(row.ewma_seconds, (row.ewma_latency_ms ?? 0) / 1000)
    await p.close()
  })

  it('?scope=instance is accepted outside fleet mode too (the same answer); an unknown scope is a 400 naming it', async () => {
    const p = await testProxy()
    const a = await p.app.request('/v1/usage?scope=instance')
    assert.equal(a.status, 200)
    assert.equal(((await a.json()) as Usage).total_requests, 0)
    const b = await p.app.request('/v1/usage?scope=everywhere')
    assert.equal(b.status, 400)
    assert.match(await b.text(), /scope/)
    await p.close()
  })
})
