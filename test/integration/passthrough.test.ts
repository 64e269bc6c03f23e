import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spyingProxy } from './helpers.ts'

// The client's own JSON text, with spacing and escapes JSON.stringify would not write.
const anthropicText = (model: string) =>
  `{ "model": "${model}",\n  "max_tokens": 256, "messages": [ {"role":"user","content":"caf\\u00e9 \\"model\\": 1"} ] }`
const openaiText = (model: string) => `{"messages": [ {"role":"user","content":"hi\\u0021"} ],\n "model" : "${model}" }`

describe('same-format passthrough: the client text goes upstream with only the model replaced', () => {
  it('Anthropic client → Anthropic upstream', async () => {
    const spy = await spyingProxy()
    const res = await spy.post('/v1/messages', anthropicText('anth,mock-a'))
    assert.equal(res.status, 200)
    assert.equal(spy.seen[0]!.body, anthropicText('mock-a'))
    await spy.close()
  })

  it('OpenAI client → OpenAI upstream', async () => {
    const spy = await spyingProxy()
    const res = await spy.post('/v1/chat/completions', openaiText('oai,mock-o'))
    assert.equal(res.status, 200)
    assert.equal(spy.seen[0]!.body, openaiText('mock-o'))
    await spy.close()
  })

  it('a translated body is serialised from the translation, and a nested "model" key turns the splice off', async () => {
    const spy = await spyingProxy()
    assert.equal((await spy.post('/v1/messages', anthropicText('oai,mock-o'))).status, 200)
    assert.equal(JSON.parse(spy.seen[0]!.body).model, 'mock-o')
    assert.ok(!spy.seen[0]!.body.includes('\n'), 'the OpenAI body is JSON.stringify output')
    const nested =
      `{"model":"anth,mock-a","max_tokens":256,"metadata":{"user_id":"u"},"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}],"tools":[{"name":"t","input_schema":{"type":"object","properties":{"model":{"type":"string"}}}}]}`
    assert.equal((await spy.post('/v1/messages', nested)).status, 200)
    assert.deepEqual(JSON.parse(spy.seen[1]!.body), { ...JSON.parse(nested), model: 'mock-a' })
    await spy.close()
  })
})
