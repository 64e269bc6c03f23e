/**
 * Per-provider rate limits (`rpm`, `tpm`, `maxConcurrent`) through the app: a target over
 * budget is skipped while another can serve, and when none can the client gets a 429 with a
 * `retry-after` and no upstream is called.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ask, routeOf, simConfig, simProxy } from './resilience-helpers.ts'

const router = { default: 'oai,mock-o', background: 'anth,mock-a' }
const targetsOf = (responses: Response[]) => responses.map((r) => routeOf(r).target)

describe('resilience: provider rate limits', () => {
  it('rpm: the over-budget provider is skipped (not waited on) and is back once its bucket refills', async () => {
    const p = await simProxy(simConfig(router, {}, { oai: { rpm: 2 } }))
    const first = [
      await p.post(ask('claude-sonnet-4')),
      await p.post(ask('claude-sonnet-4')),
      await p.post(ask('claude-sonnet-4')),
    ]
    assert.deepEqual(targetsOf(first), ['oai,mock-o', 'oai,mock-o', 'anth,mock-a'])
    assert.equal(routeOf(first[2]!).attempts, 1, 'no upstream call was spent on the limited provider')
    const plan = (await (await p.get('/v1/routing/plan?scenario=default')).json()) as {
      dropped: { target: string; skip?: { reason: string } }[]
    }
    assert.deepEqual(plan.dropped.map((d) => [d.target, d.skip?.reason]), [['oai,mock-o', 'rate_limited']])
    p.clock.advance(30_000)
    assert.equal(
      routeOf(await p.post(ask('claude-sonnet-4'))).target,
      'oai,mock-o',
      'half a minute refills one request of rpm 2',
    )
    assert.deepEqual(p.mock.attempts().map((a) => a.baseModel), ['mock-o', 'mock-o', 'mock-a', 'mock-o'])
    p.close()
  })

  it('all providers over budget: 429 rate_limit_error with retry-after, and no upstream call', async () => {
    const p = await simProxy(simConfig(router, {}, { oai: { rpm: 1 }, anth: { rpm: 1 } }))
    assert.equal((await p.post(ask('claude-sonnet-4'))).status, 200)
    assert.equal((await p.post(ask('claude-sonnet-4'))).status, 200)
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 429)
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'rate_limit_error')
    const wait = Number(res.headers.get('retry-after'))
    assert.ok(wait >= 1 && wait <= 60, `retry-after ${wait}`)
    assert.equal(p.mock.attempts().length, 2)
    p.close()
  })

  it('maxConcurrent: while a stream holds the only slot, the next request goes elsewhere; the slot frees when it ends', async () => {
    let oaiCalls = 0
    // The first OpenAI-format call stalls after 3 events, so its stream stays open until the client leaves.
    const inject = (
      req: Request,
    ) => (req.url.includes('/chat/completions') && oaiCalls++ === 0 ? { 'x-mock-stall': '3' } : undefined)
    const p = await simProxy(simConfig(router, {}, { oai: { maxConcurrent: 1 } }), { inject })
    const open = await p.post(ask('claude-sonnet-4', { stream: true }))
    assert.equal(routeOf(open).target, 'oai,mock-o')
    assert.equal(routeOf(await p.post(ask('claude-sonnet-4'))).target, 'anth,mock-a')
    await open.body!.cancel()
    assert.equal(routeOf(await p.post(ask('claude-sonnet-4'))).target, 'oai,mock-o')
    assert.deepEqual(p.mock.attempts().map((a) => [a.baseModel, a.outcome]), [['mock-o', 'aborted'], ['mock-a', 'ok'], [
      'mock-o',
      'ok',
    ]])
    p.close()
  })

  it('tpm: a prompt that no longer fits the provider budget goes to one that can take it; a small one still fits', async () => {
    const p = await simProxy(simConfig(router, {}, { oai: { tpm: 1_000 } }))
    const big = ask('claude-sonnet-4', { messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(150) }] })
    assert.equal(routeOf(await p.post(big)).target, 'oai,mock-o')
    const second = await p.post(big)
    assert.equal(second.status, 200)
    assert.equal(routeOf(second).target, 'anth,mock-a')
    assert.equal(routeOf(await p.post(ask('claude-sonnet-4'))).target, 'oai,mock-o')
    assert.deepEqual(p.mock.attempts().map((a) => a.baseModel), ['mock-o', 'mock-a', 'mock-o'])
    p.close()
  })

  it('when the primary failed upstream and the fallback is only over its local budget, the client sees the upstream error', async () => {
    const cfg = simConfig(
      { default: 'oai,mock-o:status=503', background: 'anth,mock-a', tierRetries: { 'tier-0': { max_retries: 0 } } },
      {},
      { anth: { tpm: 1_000 } },
    )
    const p = await simProxy(cfg)
    const big = (model: string) =>
      ask(model, { messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(150) }] })
    assert.equal((await p.post(big('anth,mock-a'))).status, 200)
    const res = await p.post(big('claude-sonnet-4'))
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), null)
    assert.match(
      res.headers.get('x-switchyard-route') ?? '',
      /attempts=1; fallback=0$/,
      'the over-budget fallback was left out of the plan (TPM checked with the estimate)',
    )
    assert.deepEqual(p.mock.attempts().map((a) => a.model), ['mock-a', 'mock-o:status=503'])
    p.close()
  })

  it('tpm: a try that failed before answering gives its token reservation back', async () => {
    let oaiCalls = 0
    const inject = (
      req: Request,
    ) => (req.url.includes('/chat/completions') && oaiCalls++ === 0 ? { 'x-mock-status': '503' } : undefined)
    const p = await simProxy(
      simConfig({ ...router, tierRetries: { 'tier-0': { max_retries: 0 } } }, {}, { oai: { tpm: 600 } }),
      { inject },
    )
    // About 460 estimated tokens: one fits the budget of 600, a second only if the first was refunded.
    const big = ask('claude-sonnet-4', { messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(150) }] })
    assert.equal(routeOf(await p.post(big)).target, 'anth,mock-a', 'the 503 failed over')
    assert.equal(routeOf(await p.post(big)).target, 'oai,mock-o', 'and the budget it reserved was refunded')
    p.close()
  })
})
