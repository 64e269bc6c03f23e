import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createMockUpstream } from '../upstream.ts'
import { profileFactor } from './attempts.ts'
import { parseKnobs } from './knobs.ts'

const body = (model: string, stream = true): string =>
  JSON.stringify({ model, stream, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })
const post = (model: string, headers: Record<string, string> = {}, stream = true): Request =>
  new Request('http://mock/v1/messages', { method: 'POST', body: body(model, stream), headers })

/** A sleep that records what it was asked to wait and returns at once. */
function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = []
  return {
    waits,
    sleep: (ms) => {
      waits.push(ms)
      return Promise.resolve()
    },
  }
}

describe('latency profile', () => {
  it('multiplies ttft and delay by the factor active at the injected clock time', async () => {
    let clock = 1_000
    const rec = recordingSleep()
    const mock = createMockUpstream({
      now: () => clock,
      sleep: rec.sleep,
      profile: [{ fromMs: 10_000, toMs: 40_000, factor: 5 }],
    })
    clock += 5_000
    await (await mock.fetch(post('m:chunks=3:ttft=10:delay=2'))).text()
    clock += 10_000
    await (await mock.fetch(post('m:chunks=3:ttft=10:delay=2'))).text()
    clock += 30_000
    await (await mock.fetch(post('m:chunks=3:ttft=10:delay=2'))).text()
    assert.deepEqual(rec.waits, [10, 2, 2, 50, 10, 10, 10, 2, 2])
    assert.deepEqual(mock.attempts().map((a) => [a.t, a.factor]), [[5_000, 1], [15_000, 5], [45_000, 1]])
  })

  it('law: profileFactor is the product of the active steps and 1 outside every step', () => {
    fc.assert(fc.property(
      fc.array(
        fc.record({ fromMs: fc.nat(1000), len: fc.nat(1000), factor: fc.double({ min: 0.1, max: 10, noNaN: true }) }),
      ),
      fc.nat(2500),
      (raw, t) => {
        const steps = raw.map((s) => ({ fromMs: s.fromMs, toMs: s.fromMs + s.len, factor: s.factor }))
        const active = steps.filter((s) => t >= s.fromMs && t < s.toMs)
        const expected = active.reduce((f, s) => f * s.factor, 1)
        assert.ok(Math.abs(profileFactor(steps, t, 'm') - expected) < 1e-9)
      },
    ))
  })

  it('a step with a model only slows that base model', () => {
    const steps = [{ fromMs: 0, toMs: 10, factor: 3, model: 'slow' }]
    assert.deepEqual([profileFactor(steps, 5, 'slow'), profileFactor(steps, 5, 'fast')], [3, 1])
  })
})

describe('jitter', () => {
  it('is seeded: the same seed gives the same waits, each within [delay, delay + jitter)', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const rec = recordingSleep()
      const mock = createMockUpstream({ sleep: rec.sleep })
      await (await mock.fetch(post(`m:chunks=6:delay=10:jitter=5:seed=${seed}`))).text()
      return rec.waits
    }
    const a = await run(7)
    assert.deepEqual(await run(7), a)
    assert.notDeepEqual(await run(8), a)
    for (const w of a.slice(1)) assert.ok(w >= 10 && w < 15, String(w))
  })
})

describe('knobs', () => {
  it('reads x-mock-* headers, lets the model suffix win, and keeps non-knob segments in the base', () => {
    const r = parseKnobs('qwen3:8b:chunks=4', new Headers({ 'x-mock-chunks': '9', 'x-mock-delay': '3' }))
    assert.ok(r.ok)
    if (!r.ok) return
    assert.deepEqual([r.value.base, r.value.knobs.chunks, r.value.knobs.delayMs], ['qwen3:8b', 4, 3])
  })

  it('rejects unknown or invalid knobs with a 422 in the format of the route', async () => {
    const mock = createMockUpstream()
    const res = await mock.fetch(post('m:chunkz=4'))
    assert.equal(res.status, 422)
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /Unknown mock knob "chunkz"/)
    assert.equal(parseKnobs('m:chunks=-1', new Headers()).ok, false)
    assert.equal(mock.attempts().length, 0)
  })
})

describe('attempt log routes', () => {
  it('GET /_mock/attempts lists attempts in order; DELETE clears them', async () => {
    const mock = createMockUpstream({ sleep: () => Promise.resolve() })
    await (await mock.fetch(post('a:chunks=2'))).text()
    await (await mock.fetch(post('b:status=503', {}, false))).text()
    const listed = await (await mock.fetch(new Request('http://mock/_mock/attempts'))).json() as {
      attempts: { seq: number; baseModel: string; outcome: string; stream: boolean }[]
    }
    assert.deepEqual(listed.attempts.map((a) => [a.seq, a.baseModel, a.outcome, a.stream]), [[1, 'a', 'ok', true], [
      2,
      'b',
      'status',
      false,
    ]])
    assert.equal((await mock.fetch(new Request('http://mock/_mock/attempts', { method: 'DELETE' }))).status, 204)
    assert.equal(mock.attempts().length, 0)
  })

  it('count_tokens answers with the same estimate the mock reports as input usage', async () => {
    const mock = createMockUpstream()
    const req = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(41) }] }
    const ct = await (await mock.fetch(
      new Request('http://mock/v1/messages/count_tokens', { method: 'POST', body: JSON.stringify(req) }),
    )).json() as { input_tokens: number }
    const full = await (await mock.fetch(
      new Request('http://mock/v1/messages', { method: 'POST', body: JSON.stringify({ ...req, max_tokens: 4 }) }),
    )).json() as { usage: { input_tokens: number } }
    assert.deepEqual([ct.input_tokens, full.usage.input_tokens], [11, 11])
  })
})
