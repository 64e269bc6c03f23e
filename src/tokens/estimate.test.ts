import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encode } from 'gpt-tokenizer/encoding/cl100k_base'
import type { JsonObject } from '../formats/types.ts'
import { TokenCache } from './cache.ts'
import { countText, estimateTokens, exceedsThreshold, longContextDecision, utf8Length } from './estimate.ts'
import { FLAT_IMAGE_TOKENS } from './images.ts'
import { MESSAGE_OVERHEAD, REQUEST_OVERHEAD } from './walk.ts'

const direct = (s: string): number => encode(s, { disallowedSpecial: new Set() }).length
const FRAME = REQUEST_OVERHEAD + MESSAGE_OVERHEAD

describe('estimateTokens', () => {
  it('counts a plain string message as cl100k tokens plus framing', () => {
    const text = 'Refactor the retry loop so that failover never double-bills a request.'
    const e = estimateTokens({ messages: [{ role: 'user', content: text }] })
    assert.equal(e.messages, direct(text) + FRAME)
    assert.equal(e.total, e.messages)
  })

  it('splits system, tools, thinking and tool_use into their components', () => {
    const schema = { type: 'object', properties: { path: { type: 'string' } } }
    const body: JsonObject = {
      system: [{ type: 'text', text: 'You are a careful engineer.' }],
      tools: [{ name: 'read_file', description: 'Read a file', input_schema: schema }],
      messages: [{
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'The user wants the config file first.', signature: 'x' },
          { type: 'tool_use', id: 't1', name: 'read_file', input: { path: 'a.ts' } },
        ],
      }],
    }
    const e = estimateTokens(body)
    assert.equal(e.system, direct('You are a careful engineer.'))
    assert.equal(e.tools, direct('read_fileRead a file') + direct(JSON.stringify(schema)))
    assert.equal(e.thinking, direct('The user wants the config file first.'))
    // The system prompt is framed as a turn too.
    assert.equal(e.messages, direct('read_file{"path":"a.ts"}') + FRAME + MESSAGE_OVERHEAD)
    assert.equal(e.total, e.system + e.tools + e.thinking + e.messages + e.images)
  })

  it('counts one prompt the same whether its system prompt is top-level (Anthropic) or a message (OpenAI)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (system, user) => {
        const anthropic = estimateTokens({ system, messages: [{ role: 'user', content: user }] })
        const openai = estimateTokens({
          messages: [...(system === '' ? [] : [{ role: 'system', content: system }]), { role: 'user', content: user }],
        })
        assert.deepEqual(anthropic, openai)
        const blocks = estimateTokens({
          system: [{ type: 'text', text: system }],
          messages: [{ role: 'user', content: user }],
        })
        assert.equal(
          blocks.total,
          estimateTokens({ messages: [{ role: 'system', content: system }, { role: 'user', content: user }] }).total,
        )
      }),
      { numRuns: 300 },
    )
    assert.equal(
      estimateTokens({ system: [], messages: [] }).total,
      REQUEST_OVERHEAD,
      'an empty system prompt adds no turn',
    )
  })

  it('accepts OpenAI shapes: system role, tool_calls, tool role, tools[].function', () => {
    const body: JsonObject = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'ls', arguments: '{"dir":"src"}' } }],
        },
        { role: 'tool', tool_call_id: 'c', content: 'a.ts\nb.ts' },
      ],
      tools: [{ type: 'function', function: { name: 'ls', description: 'List', parameters: { type: 'object' } } }],
    }
    const e = estimateTokens(body)
    assert.equal(e.system, direct('Be brief.'))
    assert.equal(e.messages, REQUEST_OVERHEAD + 3 * MESSAGE_OVERHEAD + direct('ls{"dir":"src"}') + direct('a.ts\nb.ts'))
    assert.equal(e.tools, direct('lsList') + direct('{"type":"object"}'))
  })

  it('counts images: flat for URLs, width*height/750 from a PNG header', () => {
    const png = new Uint8Array(33)
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
    new DataView(png.buffer).setUint32(16, 300)
    new DataView(png.buffer).setUint32(20, 200)
    const b64 = btoa(String.fromCharCode(...png))
    const e = estimateTokens({
      messages: [{
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: b64 } },
          { type: 'image', source: { type: 'url', url: 'https://example.invalid/x.png' } },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${b64}` } },
        ],
      }],
    })
    assert.equal(e.images, 2 * Math.ceil((300 * 200) / 750) + FLAT_IMAGE_TOKENS)
  })

  it('treats special-token strings in user text as plain text', () => {
    assert.equal(countText('<|endoftext|>'), direct('<|endoftext|>'))
    assert.ok(countText('<|endoftext|>') > 1)
  })
})

const block = fc.oneof(
  fc.string({ maxLength: 300 }).map((text) => ({ type: 'text', text })),
  fc.string({ maxLength: 200 }).map((thinking) => ({ type: 'thinking', thinking, signature: 's' })),
  fc.record({
    name: fc.string({ maxLength: 10 }),
    input: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 40 })),
  })
    .map((t) => ({ type: 'tool_use', id: 'x', ...t })),
  fc.string({ maxLength: 300 }).map((content) => ({ type: 'tool_result', tool_use_id: 'x', content })),
)
const message = fc.record({
  role: fc.constantFrom('user', 'assistant'),
  content: fc.oneof(fc.string({ maxLength: 200 }), fc.array(block, { maxLength: 4 })),
})
const conversation = fc.record({
  system: fc.string({ maxLength: 400 }),
  messages: fc.array(message, { maxLength: 12 }),
}) as fc.Arbitrary<JsonObject>

describe('TokenCache', () => {
  it('law: a memoised estimate equals the uncached estimate, cold and warm', () => {
    const cache = new TokenCache({ maxEntries: 50, minChars: 4 })
    fc.assert(
      fc.property(conversation, (body) => {
        const plain = estimateTokens(body)
        assert.deepEqual(estimateTokens(body, cache), plain)
        assert.deepEqual(estimateTokens(structuredClone(body), cache), plain)
      }),
      { numRuns: 150 },
    )
  })

  it('stays within its entry and character bounds (LRU eviction)', () => {
    const cache = new TokenCache({ maxEntries: 10, maxChars: 500, minChars: 1 })
    for (let i = 0; i < 100; i++) cache.get(`block number ${i} `.repeat(3), countText)
    const s = cache.stats()
    assert.ok(s.entries <= 10 && s.chars <= 500)
    assert.equal(cache.peek('block number 99 '.repeat(3)), countText('block number 99 '.repeat(3)))
    assert.equal(cache.peek('block number 0 '.repeat(3)), undefined)
  })

  it('keeps a recently hit entry when older ones are evicted', () => {
    const cache = new TokenCache({ maxEntries: 10, minChars: 1 })
    const key = (i: number): string => `entry ${i}`
    for (let i = 0; i < 10; i++) cache.set(key(i), i)
    for (let i = 10; i < 30; i++) {
      cache.peek(key(0))
      cache.set(key(i), i)
    }
    assert.equal(cache.peek(key(0)), 0)
    assert.equal(cache.peek(key(1)), undefined)
    assert.ok(cache.stats().entries <= 10)
  })
})

describe('long-context fast path', () => {
  it('law: tokens <= UTF-8 bytes and >= bytes/128 for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
      const n = countText(s)
      const bytes = utf8Length(s)
      assert.equal(bytes, new TextEncoder().encode(s).length)
      assert.ok(n <= bytes && n >= Math.ceil(bytes / 128))
    }))
  })

  it('law: longContextDecision and exceedsThreshold agree with the exact count', () => {
    fc.assert(
      fc.property(conversation, fc.integer({ min: 0, max: 3000 }), fc.boolean(), (body, threshold, warm) => {
        const cache = new TokenCache({ minChars: 1 })
        if (warm) estimateTokens(body, cache)
        const exact = estimateTokens(body).total
        const d = longContextDecision(body, threshold, cache)
        assert.equal(d.over, exact > threshold)
        if (d.exact) assert.equal(d.tokens, exact)
        const quick = exceedsThreshold(body, threshold, cache)
        if (quick !== undefined) assert.equal(quick, exact > threshold)
        if (warm) assert.equal(quick, exact > threshold)
      }),
      { numRuns: 200 },
    )
  })

  it('decides a tiny request without tokenizing and a warm one exactly', () => {
    const body = { messages: [{ role: 'user', content: 'short question' }] }
    const cold = longContextDecision(body, 1000, new TokenCache())
    assert.deepEqual({ over: cold.over, exact: cold.exact }, { over: false, exact: false })
    assert.ok(cold.tokens >= estimateTokens(body).total)
  })
})
