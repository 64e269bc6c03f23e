import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createFakeSender } from '../../test/doubles/fake-sender.ts'
import { runTest } from './run-test.ts'
import type { GatedSend } from './run-test.ts'
import type { ProbeSender } from './types.ts'

const gate = (send: ProbeSender): GatedSend => async (target, body) => ({
  kind: 'done',
  outcome: await send({ target, body, signal: new AbortController().signal }),
})
const now = (): number => 1_000

describe('runTest', () => {
  const fake = createFakeSender({
    'mock,fast': { ttftMs: 50, perTokenMs: 10 },
    'mock,flaky': { ttftMs: 80, perTokenMs: 5, failEvery: 2 },
    'mock,empty': { ttftMs: 10, perTokenMs: 1, empty: true },
  })
  it('latency: streamed short prompt, runs as asked, TTFT and total match the profile', async () => {
    const r = await runTest('latency', 'mock,fast', { send: gate(fake.send), now, runs: 5, maxTokens: 256 })
    assert.equal(r.runs.length, 5)
    assert.equal(r.ttftMs?.p50, 50)
    const mt = fake.calls.at(-1)!.body.max_tokens as number
    assert.equal(fake.calls.at(-1)!.body.stream, true)
    assert.equal(r.latencyMs?.p99, 50 + (mt - 1) * 10)
    assert.equal(r.successRate, 1)
  })
  it('throughput: tokens/s over generation matches 1000 / perTokenMs', async () => {
    const r = await runTest('throughput', 'mock,fast', { send: gate(fake.send), now, runs: 3, maxTokens: 101 })
    assert.equal(fake.calls.at(-1)!.body.max_tokens, 101, 'max_tokens capped by maxTokens')
    assert.ok(Math.abs((r.tokensPerSec?.p50 ?? 0) - 1000 / 10) < 1e-9)
  })
  it('concurrent: sends N requests per round', async () => {
    const before = fake.calls.length
    const r = await runTest('concurrent', 'mock,fast', {
      send: gate(fake.send),
      now,
      runs: 2,
      maxTokens: 16,
      concurrency: 3,
    })
    assert.equal(fake.calls.length - before, 6)
    assert.equal(r.runs.length, 6)
  })
  it('health: an ok answer with no output counts as a failure', async () => {
    const r = await runTest('health', 'mock,empty', { send: gate(fake.send), now, runs: 2, maxTokens: 16 })
    assert.equal(r.successRate, 0)
    assert.match(r.runs[0]?.error ?? '', /no output/)
    assert.equal(fake.calls.at(-1)!.body.stream, false)
  })
  it('success rate reflects failures; latency stats use successful runs only', async () => {
    const r = await runTest('latency', 'mock,flaky', { send: gate(fake.send), now, runs: 4, maxTokens: 8 })
    assert.equal(r.successRate, 0.5)
    assert.equal(r.latencyMs?.count, 2)
  })
  it('stops at the first refusal and says why', async () => {
    let left = 2
    const send: GatedSend = async (target, body, tokens) => {
      assert.ok(tokens > (body.max_tokens as number), 'reserves input estimate plus max_tokens')
      return left-- > 0 ? gate(fake.send)(target, body, tokens) : { kind: 'refused', reason: 'budget exhausted' }
    }
    const r = await runTest('latency', 'mock,fast', { send, now, runs: 10, maxTokens: 8 })
    assert.equal(r.runs.length, 2)
    assert.equal(r.stoppedReason, 'budget exhausted')
  })
})
