import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { JsonObject } from '../formats/types.ts'
import { passthroughText } from './passthrough.ts'

/** What the pipeline does to a same-format body: a shallow copy with the model replaced. */
const routed = (client: JsonObject, model = 'up-model'): JsonObject => ({ ...client, model })

describe('passthroughText', () => {
  it('sends the client text with only the model value replaced (spacing and escapes kept)', () => {
    const raw =
      '{ "model" : "anth,claude", "messages":[{"role":"user","content":"caf\\u00e9 \\"model\\": x"}],\n "max_tokens": 10 }'
    const client = JSON.parse(raw) as JsonObject
    const text = passthroughText(raw, client, routed(client))
    assert.equal(
      text,
      '{ "model" : "up-model", "messages":[{"role":"user","content":"caf\\u00e9 \\"model\\": x"}],\n "max_tokens": 10 }',
    )
    assert.deepEqual(JSON.parse(text!), routed(client))
  })

  it('falls back when anything but the model changed, was added or dropped', () => {
    const raw = '{"model":"m","max_tokens":64000,"stream":true,"messages":[]}'
    const client = JSON.parse(raw) as JsonObject
    assert.equal(passthroughText(raw, client, { ...routed(client), max_tokens: 8192 }), undefined)
    assert.equal(passthroughText(raw, client, { ...routed(client), messages: [] }), undefined)
    assert.equal(passthroughText(raw, client, { ...routed(client), extra: 1 }), undefined)
    const { stream: _, ...dropped } = routed(client)
    assert.equal(passthroughText(raw, client, dropped), undefined)
    assert.equal(passthroughText(raw, client, { ...routed(client), model: 7 } as JsonObject), undefined)
  })

  it('falls back on a nested or duplicate "model" key, or one spelled with escapes', () => {
    const cases = [
      '{"model":"m","metadata":{"model":"x"}}',
      '{"model":"m","model":"m"}',
      '{"mod\\u0065l":"m","metadata":{"model":"m"}}',
      '{"metadata":{"mod\\u0065l":"n"},"model":"m"}',
    ]
    for (const raw of cases) {
      const client = JSON.parse(raw) as JsonObject
      assert.equal(passthroughText(raw, client, routed(client)), undefined, raw)
    }
  })

  it('ignores "model" inside strings, whatever the backslashes before it', () => {
    const raw = '{"a":"x\\\\","model":"m","b":"say \\"model\\": 1 and \\\\\\"model\\" :","c":"\\"model"}'
    const client = JSON.parse(raw) as JsonObject
    assert.deepEqual(JSON.parse(passthroughText(raw, client, routed(client))!), routed(client))
  })

  it('law: whenever it answers, the text parses to exactly the upstream body', () => {
    const key = fc.constantFrom('model', 'messages', 'max_tokens', 'metadata', 'mod\\u0065l', 'x', '"model"', 'model\\')
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.constantFrom('model', '"model":', '\\"model\\"', 'a\\'),
        fc.integer(),
        fc.boolean(),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(key, tie('v'), { maxKeys: 3 }),
      ),
    })).v
    let answered = 0
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 5 }), fc.string(), fc.boolean(), (extra, model, spaced) => {
        const client = { model, ...extra } as JsonObject
        const raw = JSON.stringify(client, null, spaced ? 1 : undefined)
        const parsed = JSON.parse(raw) as JsonObject
        const up = routed(parsed, 'upstream,"x"')
        const text = passthroughText(raw, parsed, up)
        if (text !== undefined) {
          answered++
          assert.deepEqual(JSON.parse(text), up)
        }
      }),
      { numRuns: 2000 },
    )
    assert.ok(answered > 100, `answered ${answered} of 2000`)
  })
})
