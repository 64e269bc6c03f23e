import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { JsonObject } from '../formats/types.ts'
import { passthroughText } from './passthrough.ts'

/** What the pipeline does to a same-format body: a shallow copy with the model replaced. */
const routed = (client: JsonObject, model = 'up-model'): JsonObject => ({ ...client, model })

/** Whether the splice answers for the client text `raw`; when it does, its text must parse to exactly the upstream body. */
function answersRight(raw: string): boolean {
  const parsed = JSON.parse(raw) as JsonObject
  const up = routed(parsed, 'upstream,"x"')
  const text = passthroughText(raw, parsed, up)
  if (text === undefined) return false
  assert.deepEqual(JSON.parse(text), up)
  return true
}

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

  it('a "model" key deeper down does not matter (Claude Code\'s Agent tool has one in its schema)', () => {
    const cases = [
      '{"model":"m","metadata":{"model":"x"}}',
      '{"tools":[{"name":"Agent","input_schema":{"properties":{"model":{"enum":["sonnet"]}}}}],"model":"m"}',
      '{"metadata":{"mod\\u0065l":"n","a\\"":[{"model":1}]},"model":"m"}',
    ]
    for (const raw of cases) {
      const client = JSON.parse(raw) as JsonObject
      const text = passthroughText(raw, client, routed(client))
      assert.ok(text !== undefined, raw)
      assert.deepEqual(JSON.parse(text), routed(client))
      assert.equal(text, raw.replace('"model":"m"', '"model":"up-model"'))
    }
  })

  it('falls back on a duplicate top-level "model" key, a top-level key spelled with escapes, or a value not a string', () => {
    const cases = [
      '{"model":"m","model":"m"}',
      '{"model":"m","mod\\u0065l":"m"}',
      '{"mod\\u0065l":"m","metadata":{"model":"m"}}',
      '{"model":"m","a\\"b":1}',
      '{"model":{"name":"m"}}',
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
        if (answersRight(JSON.stringify(client, null, spaced ? 1 : undefined))) answered++
      }),
      { numRuns: 2000 },
    )
    assert.ok(answered > 100, `answered ${answered} of 2000`)
  })

  it('law: on object texts written by hand (duplicate keys, escaped spellings, any spacing), an answer parses to the upstream body', () => {
    const key = fc.constantFrom('"model"', '"mod\\u0065l"', '"\\u006dodel"', '"messages"', '"x"', '"model\\\\"')
    const value = fc.constantFrom(
      '"m"',
      '"n"',
      '"a\\"b"',
      '1',
      '{"model":"m"}',
      '["model", {"model": [1]}]',
      '"{\\"model\\":1}"',
    )
    const space = fc.constantFrom('', ' ', '\n ')
    const pair = fc.tuple(key, space, value).map(([k, sp, v]) => `${k}${sp}:${sp}${v}`)
    const modelPair = fc.tuple(space, fc.constantFrom('"m"', '"a\\"b"', '"\\u006d"')).map(([sp, v]) =>
      `"model"${sp}:${v}`
    )
    let answered = 0
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 4 }), modelPair, fc.nat(4), space, (others, model, at, sp) => {
        const pairs = [...others.slice(0, at), model, ...others.slice(at)]
        if (answersRight(`{${sp}${pairs.join(`,${sp}`)}${sp}}`)) answered++
      }),
      { seed: 23, numRuns: 2000 },
    )
    assert.ok(answered > 100, `answered ${answered} of 2000`)
  })
})
