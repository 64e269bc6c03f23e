/**
 * Active test results feed routing: before live traffic has measured the tiers, a plan built
 * from test results sends requests to the target the tests found faster.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { testProxy } from './helpers.ts'

// Config order puts the slow model first; only measurements can change that.
const SLOW = 'oai,slow:ttft=120:chunks=3:delay=5'
const FAST = 'anth,fast:ttft=5:chunks=3:delay=1'
const file = () => ({
  LOG: false,
  Providers: [
    {
      name: 'oai',
      api_base_url: 'http://mock.test/v1/chat/completions',
      api_key: 'k1',
      models: ['slow:ttft=120:chunks=3:delay=5'],
    },
    {
      name: 'anth',
      api_base_url: 'http://mock.test/v1/messages',
      api_key: 'k2',
      models: ['fast:ttft=5:chunks=3:delay=1'],
      transformer: { use: ['Anthropic'] },
    },
  ],
  Router: { default: SLOW, background: FAST },
  performance: { minTestCount: 2 },
})

async function runTests(p: Awaited<ReturnType<typeof testProxy>>): Promise<void> {
  const start = await p.post('/performance/test', { types: ['latency'] })
  assert.equal(start.status, 202)
  const { id } = (await start.json()) as { id: string }
  for (let i = 0; i < 200; i++) {
    const job = (await (await p.app.request(`/performance/test/${id}`)).json()) as { status: string }
    if (job.status !== 'running') return
    await new Promise((r) => setTimeout(r, 25))
  }
  assert.fail('performance job did not finish')
}

interface PlanBody {
  ordering: string
  targets: { target: string; performance_score: number }[]
}

describe('performance tests feed routing', () => {
  it('with no live samples the plan orders by tested performance, and requests follow it', async () => {
    const p = await testProxy(file())
    const before = (await (await p.app.request('/v1/routing/plan?scenario=default')).json()) as PlanBody
    assert.equal(before.ordering, 'config')
    assert.equal(before.targets[0]?.target, SLOW)
    await runTests(p)
    const after = (await (await p.app.request('/v1/routing/plan?scenario=default')).json()) as PlanBody
    assert.equal(after.ordering, 'performance')
    assert.equal(after.targets[0]?.target, FAST)
    assert.ok(after.targets[0]!.performance_score > after.targets[1]!.performance_score)
    const res = await p.post('/v1/messages', {
      model: 'claude-sonnet-4',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    })
    assert.equal(res.status, 200)
    assert.match(
      res.headers.get('x-switchyard-route') ?? '',
      new RegExp(`^default ${FAST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    )
    await res.text()
    await p.close()
  })
})
