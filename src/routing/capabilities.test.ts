import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { ModelCapabilities, ProviderConfig } from '../config/types.ts'
import { capabilitiesOf, capOutputTokens, filterByCapabilities, noTargetMessage } from './capabilities.ts'
import { asksForThinking, requestFeatures } from './features.ts'

const FC = { seed: 4242, numRuns: 300 }

const provider = (name: string, caps?: Record<string, ModelCapabilities>): ProviderConfig => ({
  name,
  baseUrl: 'http://127.0.0.1:1/v1/chat/completions',
  apiKey: 'k',
  models: [],
  format: 'openai',
  transformers: [],
  modelTransformers: {},
  limits: {},
  pricing: {},
  headers: {},
  ...(caps ? { modelCapabilities: caps } : {}),
})
const p = provider('p', {
  small: { contextWindow: 8000, maxOutputTokens: 2000, vision: false, tools: false },
  big: { contextWindow: 1_000_000, vision: true, tools: true },
})
const t = (model: string, prov = p) => ({ key: `${prov.name},${model}`, provider: prov, model })
const needs = { hasImages: false, hasTools: false, inputTokens: 100 }

describe('capabilities', () => {
  it('config overrides the catalogue field by field; unknown models know nothing', () => {
    const over = provider('o', { 'gpt-4o': { contextWindow: 64_000 } })
    assert.deepEqual({ ...capabilitiesOf(over, 'gpt-4o') }, {
      ...capabilitiesOf(provider('x'), 'gpt-4o'),
      contextWindow: 64_000,
    })
    assert.deepEqual(capabilitiesOf(provider('x'), 'my-local-llm'), {})
  })

  it('keeps a model without vision when every image is in an earlier turn (the attempt replaces them by text)', () => {
    const r = filterByCapabilities(
      [t('small'), t('big')],
      { ...needs, hasImages: true, imagesOnlyEarlier: true },
      undefined,
    )
    assert.deepEqual(r.kept.map((x) => x.key), ['p,small', 'p,big'])
    const f = requestFeatures({
      messages: [
        { role: 'user', content: [{ type: 'image', source: {} }] },
        { role: 'user', content: 'text only now' },
      ],
    })
    assert.deepEqual([f.hasImages, f.imagesOnlyEarlier], [true, true])
    const last = requestFeatures({ messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] })
    assert.deepEqual([last.hasImages, last.imagesOnlyEarlier], [true, undefined])
  })

  it('drops an image request for a model without vision, tools for one without tool calling, and says why', () => {
    const r = filterByCapabilities([t('small'), t('big')], { ...needs, hasImages: true, hasTools: true }, undefined)
    assert.deepEqual(r.kept.map((x) => x.key), ['p,big'])
    assert.deepEqual(r.skipped, [{ target: 'p,small', capability: 'vision', why: 'no vision' }])
    const tools = filterByCapabilities([t('small')], { ...needs, hasTools: true }, undefined)
    assert.equal(tools.skipped[0]?.capability, 'tools')
  })

  it('context: the estimate plus the output room (capped at the model limit) must fit', () => {
    assert.equal(
      filterByCapabilities([t('small')], { ...needs, inputTokens: 6000, maxOutputTokens: 1999 }, undefined).kept.length,
      1,
    )
    assert.equal(
      filterByCapabilities([t('small')], { ...needs, inputTokens: 6001, maxOutputTokens: 1999 }, undefined).kept.length,
      1,
    )
    assert.equal(
      filterByCapabilities([t('small')], { ...needs, inputTokens: 6002, maxOutputTokens: 1999 }, undefined).kept.length,
      0,
    )
    // A max_tokens over the model's limit is capped at 2000, so only 2000 of room is needed.
    assert.equal(
      filterByCapabilities([t('small')], { ...needs, inputTokens: 6000, maxOutputTokens: 64000 }, undefined).kept
        .length,
      1,
    )
  })

  it('a target dropped for its window puts the long-context target first (real windows, not only the threshold)', () => {
    const r = filterByCapabilities([t('small'), t('unknown'), t('big')], { ...needs, inputTokens: 50_000 }, 'p,big')
    assert.deepEqual(r.kept.map((x) => x.key), ['p,big', 'p,unknown'])
  })

  it('law: unknown capabilities never drop a target', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        fc.option(fc.nat(), { nil: undefined }),
        (img, tools, tokens, max) => {
          const r = filterByCapabilities([t('whatever-model')], {
            hasImages: img,
            hasTools: tools,
            inputTokens: tokens,
            ...(max === undefined ? {} : { maxOutputTokens: max }),
          }, undefined)
          assert.equal(r.kept.length, 1)
        },
      ),
      FC,
    )
  })

  it('law: kept and skipped partition the plan, kept in plan order (long context aside)', () => {
    const models = ['small', 'big', 'gpt-4o', 'deepseek-chat', 'x']
    fc.assert(
      fc.property(fc.subarray(models), fc.boolean(), fc.boolean(), fc.nat(2_000_000), (ms, img, tools, tokens) => {
        const r = filterByCapabilities(
          ms.map((m) => t(m)),
          { hasImages: img, hasTools: tools, inputTokens: tokens },
          undefined,
        )
        assert.equal(r.kept.length + r.skipped.length, ms.length)
        assert.deepEqual(r.kept.map((x) => x.model), ms.filter((m) => r.kept.some((k) => k.model === m)))
      }),
      FC,
    )
  })

  it('the 400 message names each missing capability and the targets lacking it', () => {
    const m = noTargetMessage([{ target: 'p,small', capability: 'vision', why: 'no vision' }])
    assert.equal(m.param, 'vision')
    assert.match(m.message, /needs vision \(the request has images\): p,small \(no vision\)/)
  })

  it("caps max_tokens (every format's field) at the model limit, and leaves smaller ones alone", () => {
    assert.deepEqual(capOutputTokens({ max_tokens: 64000 }, 8192), { max_tokens: 8192 })
    assert.deepEqual(capOutputTokens({ max_completion_tokens: 9000, x: 1 }, 8192), {
      max_completion_tokens: 8192,
      x: 1,
    })
    assert.deepEqual(capOutputTokens({ generationConfig: { maxOutputTokens: 100000, temperature: 0 } }, 65536), {
      generationConfig: { maxOutputTokens: 65536, temperature: 0 },
    })
    const small = { max_tokens: 100 }
    assert.equal(capOutputTokens(small, 8192), small)
    assert.equal(capOutputTokens(small, undefined), small)
  })
})

describe('asksForThinking: more reasoning than the client sends by default', () => {
  const cases: [string, Record<string, unknown>, boolean][] = [
    [
      'Anthropic budget (Claude Code 1.x when told to think)',
      { thinking: { type: 'enabled', budget_tokens: 4000 } },
      true,
    ],
    ['Anthropic disabled', { thinking: { type: 'disabled' } }, false],
    ['Claude Code 2.x default: adaptive, medium', {
      thinking: { type: 'adaptive' },
      output_config: { effort: 'medium' },
    }, false],
    ['Claude Code 2.x --effort high', { thinking: { type: 'adaptive' }, output_config: { effort: 'high' } }, true],
    ['Claude Code 2.x --effort max', { thinking: { type: 'adaptive' }, output_config: { effort: 'max' } }, true],
    ['OpenAI Chat low', { reasoning_effort: 'low' }, false],
    ['OpenAI Chat xhigh', { reasoning_effort: 'xhigh' }, true],
    ['Codex default: Responses medium', { reasoning: { effort: 'medium', summary: 'auto' } }, false],
    ['Responses high', { reasoning: { effort: 'high' } }, true],
    ['OpenRouter enabled', { reasoning: { enabled: true } }, true],
    ['OpenRouter max_tokens', { reasoning: { max_tokens: 2000 } }, true],
    ['OpenRouter off', { reasoning: { enabled: false, max_tokens: 2000 } }, false],
    ['Gemini CLI default budget', { generationConfig: { thinkingConfig: { thinkingBudget: 8192 } } }, false],
    [
      'Gemini 3 level (its default is high)',
      { generationConfig: { thinkingConfig: { thinkingLevel: 'HIGH' } } },
      false,
    ],
    ['Gemini large budget', { generationConfig: { thinkingConfig: { thinkingBudget: 16_384 } } }, true],
    ['nothing', { messages: [] }, false],
  ]
  for (const [name, body, expected] of cases) {
    it(`${name}: ${expected}`, () => assert.equal(asksForThinking(body), expected))
  }
})

describe('requestFeatures (any client format)', () => {
  it('Anthropic: tools, images (also inside tool results), thinking', () => {
    const f = requestFeatures({
      tools: [{ name: 'x' }],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      max_tokens: 10,
      messages: [{ role: 'user', content: [{ type: 'tool_result', content: [{ type: 'image', source: {} }] }] }],
    })
    assert.deepEqual(f, { hasTools: true, hasImages: true, thinking: true, stream: false, maxOutputTokens: 10 })
    assert.equal(requestFeatures({ thinking: { type: 'disabled' } }).thinking, false)
  })

  it('OpenAI Chat, Responses and Gemini shapes', () => {
    assert.equal(
      requestFeatures({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:' } }] }] })
        .hasImages,
      true,
    )
    assert.equal(requestFeatures({ reasoning_effort: 'high', stream: true }).thinking, true)
    assert.equal(requestFeatures({ reasoning_effort: 'medium' }).thinking, false, "the agents' default effort")
    assert.equal(
      requestFeatures({
        input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }],
        max_output_tokens: 5,
      }).hasImages,
      true,
    )
    assert.equal(
      requestFeatures({
        contents: [{ parts: [{ inlineData: { mimeType: 'image/png', data: '' } }] }],
        generationConfig: { maxOutputTokens: 7 },
      }).maxOutputTokens,
      7,
    )
    assert.equal(requestFeatures({ messages: [{ role: 'user', content: 'hi' }] }).hasImages, false)
  })
})
