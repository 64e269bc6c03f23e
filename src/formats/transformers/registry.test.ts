import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { applyRequestTransformers, knownTransformer, responseOptions, transformerNames } from './registry.ts'
import type { JsonObject } from '../types.ts'

const use = (name: string, options: Record<string, unknown> = {}) => ({ name, options })
const body: JsonObject = {
  model: 'm',
  max_tokens: 32000,
  stream: true,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }],
  tools: [{ type: 'function', function: { name: 'f', parameters: { $schema: 'x', type: 'object' } } }],
}

describe('transformer registry', () => {
  it('knows CCR names case-sensitively', () => {
    for (
      const n of [
        'Anthropic',
        'OpenAI',
        'vertex-gemini',
        'vertex-claude',
        'vertex-openai',
        'deepseek',
        'openrouter',
        'maxtoken',
        'cleancache',
        'reasoning',
        'enhancetool',
        'maxcompletiontokens',
        'streamoptions',
        'sampling',
        'customparams',
        'extrathinktag',
      ]
    ) assert.ok(knownTransformer(n), n)
    assert.equal(knownTransformer('anthropic'), false)
    assert.equal(knownTransformer('toString'), false)
    assert.ok(transformerNames().includes('groq'))
  })
  it('deepseek and maxtoken cap max_tokens; markers change nothing', () => {
    assert.equal(applyRequestTransformers(body, [use('deepseek')], { model: 'deepseek-chat' }).max_tokens, 8192)
    assert.equal(
      applyRequestTransformers(body, [use('maxtoken', { max_tokens: 1000 })], { model: 'm' }).max_tokens,
      1000,
    )
    assert.equal(
      applyRequestTransformers({ max_tokens: 10 }, [use('maxtoken', { max_tokens: 1000 })], { model: 'm' }).max_tokens,
      10,
    )
    assert.deepEqual(
      applyRequestTransformers(body, [use('Anthropic'), use('OpenAI'), use('extrathinktag'), use('nope')], {
        model: 'm',
      }),
      body,
    )
  })
  it('cleancache removes cache_control everywhere without mutating the input', () => {
    const out = applyRequestTransformers(body, [use('cleancache')], { model: 'm' })
    assert.equal(JSON.stringify(out).includes('cache_control'), false)
    assert.equal(JSON.stringify(body).includes('cache_control'), true)
  })
  it('openrouter strips cache_control for non-Claude models only and merges options', () => {
    const gpt = applyRequestTransformers(body, [use('openrouter', { provider: { only: ['groq'] } })], {
      model: 'openai/gpt-4o',
    })
    assert.equal(JSON.stringify(gpt).includes('cache_control'), false)
    assert.deepEqual(gpt.provider, { only: ['groq'] })
    const claude = applyRequestTransformers(body, [use('openrouter')], { model: 'anthropic/claude-sonnet-4' })
    assert.equal(JSON.stringify(claude).includes('cache_control'), true)
  })
  it("cerebras (CCR 2.0's): reasoning fields dropped when asked for, else disable_reasoning: false", () => {
    const asked = applyRequestTransformers({ ...body, reasoning_effort: 'high', thinking: { type: 'enabled' } }, [
      use('cerebras'),
    ], { model: 'm' })
    assert.deepEqual([asked.reasoning_effort, asked.thinking, asked.disable_reasoning], [
      undefined,
      undefined,
      undefined,
    ])
    const plain = applyRequestTransformers(body, [use('cerebras')], { model: 'm' })
    assert.equal(plain.disable_reasoning, false)
    assert.deepEqual(plain.messages, body.messages)
  })

  it("vercel (CCR 2.0's): cache_control reaches Claude models only", () => {
    const cached = { ...body, messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: {} }] }] }
    assert.doesNotMatch(
      JSON.stringify(applyRequestTransformers(cached, [use('vercel')], { model: 'gpt-4o' })),
      /cache_control/,
    )
    assert.match(
      JSON.stringify(applyRequestTransformers(cached, [use('vercel')], { model: 'anthropic/claude-sonnet-4' })),
      /cache_control/,
    )
  })

  it('groq strips cache_control and tool $schema', () => {
    const out = JSON.stringify(applyRequestTransformers(body, [use('groq')], { model: 'm' }))
    assert.equal(out.includes('$schema') || out.includes('cache_control'), false)
  })
  it('reasoning maps effort to enable_thinking + budget; enable:false disables', () => {
    const on = applyRequestTransformers({ reasoning_effort: 'medium' }, [use('reasoning')], { model: 'm' })
    assert.equal(on.enable_thinking, true)
    assert.deepEqual(on.thinking, { type: 'enabled', budget_tokens: 8192 })
    const off = applyRequestTransformers({ reasoning_effort: 'high' }, [use('reasoning', { enable: false })], {
      model: 'm',
    })
    assert.deepEqual(off, { thinking: { type: 'disabled' }, enable_thinking: false })
    assert.deepEqual(applyRequestTransformers({ a: 1 }, [use('reasoning')], { model: 'm' }), { a: 1 })
    const anthropicOff = applyRequestTransformers({ thinking: { type: 'enabled', budget_tokens: 2048 } }, [
      use('reasoning', { enable: false }),
    ], { model: 'm', format: 'anthropic' })
    assert.deepEqual(anthropicOff, { thinking: { type: 'disabled' } })
  })
  it('maxcompletiontokens renames, streamoptions adds include_usage only when streaming', () => {
    const out = applyRequestTransformers(body, [use('maxcompletiontokens'), use('streamoptions')], { model: 'm' })
    assert.equal(out.max_tokens, undefined)
    assert.equal(out.max_completion_tokens, 32000)
    assert.deepEqual(out.stream_options, { include_usage: true })
    assert.equal(
      applyRequestTransformers({ stream: false }, [use('streamoptions')], { model: 'm' }).stream_options,
      undefined,
    )
  })
  it('sampling forces parameters and caps tokens; customparams never overrides request values', () => {
    const s = applyRequestTransformers({ max_tokens: 9000, temperature: 1 }, [
      use('sampling', { max_tokens: 4096, temperature: 0.2, top_k: 40 }),
    ], { model: 'm' })
    assert.deepEqual(s, { max_tokens: 4096, temperature: 0.2, top_k: 40 })
    const c = applyRequestTransformers({ temperature: 1, extra: { a: 1 } }, [
      use('customparams', { temperature: 0, extra: { a: 2, b: 3 }, seed: 7 }),
    ], { model: 'm' })
    assert.deepEqual(c, { temperature: 1, extra: { a: 1, b: 3 }, seed: 7 })
  })
  it('responseOptions reflects enhancetool and reasoning round-trips', () => {
    assert.deepEqual(responseOptions([use('enhancetool')]), {
      repairToolArgs: true,
      roundTripReasoning: false,
      thinkingStartsOpen: false,
    })
    assert.equal(responseOptions([use('deepseek')]).roundTripReasoning, true)
    assert.deepEqual(responseOptions([]), {
      repairToolArgs: false,
      roundTripReasoning: false,
      thinkingStartsOpen: false,
    })
  })
  it('keeps a __proto__ key as plain data', () => {
    const b = JSON.parse('{"__proto__":{"x":1},"cache_control":2}') as JsonObject
    const out = applyRequestTransformers(b, [use('cleancache'), use('customparams', { y: 2 })], { model: 'm' })
    assert.deepEqual(Object.keys(out), ['__proto__', 'y'])
    assert.equal((out as { x?: number }).x, undefined)
  })
  it('law: cleancache is idempotent and leaves no cache_control', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const b = { v, cache_control: 1 }
      const once = applyRequestTransformers(b, [use('cleancache')], { model: 'm' })
      assert.deepEqual(applyRequestTransformers(once, [use('cleancache')], { model: 'm' }), once)
      assert.equal(JSON.stringify(once).includes('"cache_control"'), false)
    }))
  })
})
