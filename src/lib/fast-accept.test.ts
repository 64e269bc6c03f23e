import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { z } from '@hono/zod-openapi'
import { acceptsAs, fastAccept } from './fast-accept.ts'
import {
  AnthropicCountTokensRequestSchema,
  AnthropicMessagesRequestSchema,
  OpenAIChatRequestSchema,
} from '../formats/index.ts'

/**
 * Anything JSON.parse can return, mostly in the request schemas' own shapes (each value is right
 * nine times in ten) so that both verdicts and every branch are reached.
 */
const json = fc.jsonValue({ maxDepth: 2 })
const mostly = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: a, weight: 9 }, { arbitrary: json, weight: 1 })
const text = fc.oneof(
  { arbitrary: fc.constantFrom('user', 'assistant', 'system', 'text', 'anth,mock-a', 'gpt-4o'), weight: 6 },
  { arbitrary: fc.constantFrom('a,__proto__', 'x\u0000', '', 'a'.repeat(300)), weight: 1 },
  { arbitrary: fc.string(), weight: 2 },
)
const block = mostly(fc.record({ type: mostly(text), text }, { requiredKeys: ['type'] }))
const content = mostly(fc.oneof(text, fc.array(block, { maxLength: 3 })))
const message = mostly(
  fc.record({ role: mostly(text), content, tool_calls: mostly(fc.array(block, { maxLength: 2 })) }, {
    requiredKeys: ['role', 'content'],
  }),
)
const number = mostly(fc.oneof(fc.integer(), fc.double()))
const stream = mostly(fc.oneof(fc.boolean(), fc.constant(null)))
const toolChoice = mostly(fc.oneof(text, block))
const metadata = mostly(fc.record({ user_id: fc.oneof(text, fc.constant(null)) }, { requiredKeys: [] }))
const body = fc.record({
  model: mostly(text),
  messages: mostly(fc.array(message, { maxLength: 3 })),
  max_tokens: fc.oneof(number, fc.constant(null)),
  stream,
  system: content,
  tools: mostly(
    fc.array(fc.record({ name: text, type: text, input_schema: mostly(fc.object()) }, { requiredKeys: ['name'] })),
  ),
  tool_choice: toolChoice,
  stream_options: mostly(fc.record({ include_usage: mostly(fc.boolean()) }, { requiredKeys: [] })),
  stop: mostly(fc.oneof(text, fc.array(text))),
  stop_sequences: mostly(fc.array(text)),
  metadata,
  extra: json,
}, { requiredKeys: ['model', 'messages'] })
/**
 * Bodies each format's schema may well accept (plain turns, a whole token count, the common
 * options): of `body` alone about one in a hundred is a valid Anthropic request, so some seeds
 * reached fewer than twenty accepted in a run (FC_SEED=1488525441: 18) and the acceptance
 * branches went nearly untested. With these, each schema accepts 14–30 % of the bodies.
 */
const plainBody = fc.record({
  model: fc.constantFrom('anth,mock-a', 'gpt-4o'),
  messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.string() }), {
    minLength: 1,
    maxLength: 3,
  }),
  max_tokens: fc.nat(),
  stream: fc.boolean(),
  metadata: fc.record({ user_id: fc.string() }),
  tool_choice: mostly(fc.constantFrom({ type: 'auto' }, { type: 'any' }, 'auto', 'none')),
}, { requiredKeys: ['model', 'messages', 'max_tokens'] })
const someBody = fc.oneof({ arbitrary: body, weight: 3 }, { arbitrary: plainBody, weight: 1 })

const schemas = {
  AnthropicMessagesRequestSchema,
  AnthropicCountTokensRequestSchema,
  OpenAIChatRequestSchema,
} as const

describe('fastAccept', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`answers exactly as zod does for ${name}`, () => {
      const accepts = fastAccept(schema)
      let accepted = 0
      fc.assert(
        fc.property(someBody, (v) => {
          const zod = schema.safeParse(v).success
          assert.equal(accepts(v), zod, JSON.stringify(v))
          if (zod) accepted++
        }),
        { numRuns: 2000 },
      )
      // The property means little unless both verdicts come up often.
      assert.ok(accepted > 100 && accepted < 1900, `${accepted} accepted`)
    })
  }

  it('accepts a small valid body of each format without asking zod', () => {
    const calls: unknown[] = []
    const spy = <T extends { safeParse: (v: unknown) => unknown }>(s: T): T =>
      new Proxy(s, {
        get: (o, k) => k === 'safeParse' ? (v: unknown) => (calls.push(v), o.safeParse(v)) : Reflect.get(o, k),
      })
    const messages = [{ role: 'user', content: 'hi' }]
    assert.equal(fastAccept(spy(AnthropicMessagesRequestSchema))({ model: 'a,b', max_tokens: 5, messages }), true)
    assert.equal(fastAccept(spy(OpenAIChatRequestSchema))({ model: 'a,b', messages, stream: true }), true)
    assert.deepEqual(calls, [])
  })

  it('leaves to zod what it does not read: a refinement, a strict object, an int check', () => {
    const even = z.number().refine((n) => n % 2 === 0)
    assert.equal(fastAccept(even)(2), true)
    assert.equal(fastAccept(even)(3), false)
    const strict = z.strictObject({ a: z.string() })
    assert.equal(fastAccept(strict)({ a: 'x' }), true)
    assert.equal(fastAccept(strict)({ a: 'x', b: 1 }), false)
    const int = z.object({ n: z.number().int() })
    assert.equal(fastAccept(int)({ n: 1.5 }), false)
    assert.equal(fastAccept(int)({ n: 1 }), true)
  })

  it('reads optional, nullable, unions, enums, arrays and length bounds as zod does', () => {
    const s = z.object({
      a: z.string().min(2).max(3),
      b: z.union([z.number(), z.array(z.boolean())]).nullable().optional(),
      c: z.enum(['x', 'y']).optional(),
    })
    const accepts = fastAccept(s)
    for (
      const v of [
        { a: 'ab' },
        { a: 'a' },
        { a: 'abcd' },
        { a: 'abc', b: null },
        { a: 'abc', b: [true, false] },
        { a: 'abc', b: [true, 1] },
        { a: 'abc', b: Infinity },
        { a: 'abc', b: NaN },
        { a: 'abc', c: 'y' },
        { a: 'abc', c: 'z' },
        { a: 'abc', c: 1 },
        { b: 1 },
        [],
        null,
      ]
    ) assert.equal(accepts(v), s.safeParse(v).success, JSON.stringify(v))
  })

  it('uses a predicate registered for a refined schema', () => {
    const s = acceptsAs(z.string().refine((v) => v !== 'no'), (v) => v === 'yes')
    assert.equal(fastAccept(z.object({ k: s }))({ k: 'yes' }), true)
    assert.equal(fastAccept(z.object({ k: s }))({ k: 'maybe' }), false)
  })
})
