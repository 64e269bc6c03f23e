import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import type { ClientFormat } from './check.ts'
import { StreamChecker } from './check.ts'
import { pathOf } from './run.ts'

const mock = createMockUpstream({ sleep: () => Promise.resolve() })

async function streamText(format: ClientFormat, model: string): Promise<string> {
  const body = {
    model,
    stream: true,
    max_tokens: 8,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hi' }],
  }
  return (await mock.fetch(
    new Request(`http://mock${pathOf(format, model, true)}`, { method: 'POST', body: JSON.stringify(body) }),
  )).text()
}

/** Split `text` at the given cut points (any chunking of the same bytes). */
function chunked(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
  const out: string[] = []
  let prev = 0
  for (const p of points) {
    out.push(text.slice(prev, p))
    prev = p
  }
  out.push(text.slice(prev))
  return out
}

describe('StreamChecker', () => {
  it('law: a complete mock stream passes under any chunking of its bytes, in every format', async () => {
    const texts = {
      anthropic: await streamText('anthropic', 'm:chunks=12:tokens=2'),
      openai: await streamText('openai', 'm:chunks=12:tokens=2'),
      responses: await streamText('responses', 'm:chunks=12:tokens=2'),
      gemini: await streamText('gemini', 'm:chunks=12:tokens=2'),
    }
    fc.assert(
      fc.property(
        fc.constantFrom<ClientFormat>('anthropic', 'openai', 'responses', 'gemini'),
        fc.array(fc.nat(), { maxLength: 30 }),
        (format, cuts) => {
          const c = new StreamChecker(format, 12, 24)
          for (const part of chunked(texts[format], cuts)) c.push(part)
          const r = c.end()
          assert.deepEqual(r.errors, [])
          assert.equal(r.chunks, 12)
        },
      ),
    )
  })

  const broken: [string, ClientFormat, string, RegExp][] = [
    ['cut stream', 'anthropic', 'm:chunks=5:cut=4', /terminal event/],
    ['no [DONE]', 'openai', 'm:chunks=5:noterm', /terminal event/],
    ['malformed event', 'openai', 'm:chunks=5:malformed=2', /unparsable/],
    ['wrong chunk count', 'anthropic', 'm:chunks=4', /out of order or missing/],
  ]
  for (const [name, format, model, re] of broken) {
    it(`flags a ${name}`, async () => {
      const c = new StreamChecker(format, 5, 5)
      c.push(await streamText(format, model))
      const r = c.end()
      assert.equal(r.ok, false)
      assert.ok(r.errors.some((e) => re.test(e)), r.errors.join('; '))
    })
  }

  it('flags an SSE comment in a Gemini stream, wherever the chunks split it, and in no other format', async () => {
    const text = await streamText('gemini', 'm:chunks=3')
    const at = text.indexOf('\n\n') + 2
    const withComment = `${text.slice(0, at)}: ping\n\n${text.slice(at)}`
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 10 }), (cuts) => {
        const c = new StreamChecker('gemini', 3, 3)
        for (const part of chunked(withComment, cuts)) c.push(part)
        assert.deepEqual(c.end().errors, ['an SSE comment in a Gemini stream (its clients cannot skip one)'])
      }),
    )
    const anthropic = await streamText('anthropic', 'm:chunks=3')
    const a = anthropic.indexOf('\n\n') + 2
    const c = new StreamChecker('anthropic', 3, 3)
    c.push(`${anthropic.slice(0, a)}: ping\n\n${anthropic.slice(a)}`)
    assert.deepEqual(c.end().errors, [])
  })

  it('flags usage that differs from what the mock generated', async () => {
    const c = new StreamChecker('anthropic', 3, 99)
    c.push(await streamText('anthropic', 'm:chunks=3'))
    assert.match(c.end().errors.join(), /usage output tokens 3, generated 99/)
    const lenient = new StreamChecker('anthropic', 3, undefined)
    lenient.push(await streamText('anthropic', 'm:chunks=3'))
    assert.deepEqual(lenient.end().errors, [])
  })
})
