/**
 * The hub's laws, as fast-check properties (the suite's fixed seed; fast-check prints the seed
 * and the shrunk counterexample on failure):
 * - for the Responses and Gemini formats, out(in(x)) keeps everything the format can express,
 *   for requests (client side in, upstream side out) and for answers (hub → format → hub);
 * - an answer streamed through the hub, with the upstream bytes cut anywhere, assembles to the
 *   same message as the JSON answer translated directly.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { JsonObject, SseEvent } from '../types.ts'
import { createSseDecoder } from '../sse/decode.ts'
import { encodeSseAll } from '../sse/encode.ts'
import { jsonAsStream } from '../json-to-stream.ts'
import { cutsArb, splitAt, testCtx } from '../../../test/arbitraries/formats.ts'
import { HUB_SIDES, hubTranslation, pipeStreams } from './pairs.ts'
import { assembleHubMessage, unwrapSignature } from './events.ts'
import { hubToResponses, responsesToHub } from '../responses/request.ts'
import { geminiToHub, hubToGemini } from '../gemini/request.ts'

/** The seed is the suite's one fixed seed (test/fast-check-seed.ts); fast-check prints it on failure. */
const RUNS = { numRuns: 150 }
const text = fc.string({
  unit: fc.constantFrom('a', 'b', ' ', 'é', '😀', '"', '\\', '\n', '{'),
  minLength: 1,
  maxLength: 12,
})
const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)
const id = fc.stringMatching(/^call_[a-zA-Z0-9]{1,8}$/)
const args = fc.dictionary(name, fc.oneof(fc.integer(), text, fc.boolean()), { maxKeys: 3 }).map((d): JsonObject => ({
  ...d,
}))
const ctx = testCtx()

// ---------------------------------------------------------------------------------------------
// Requests

type Turn = { kind: 'user'; text: string } | { kind: 'assistant'; text: string } | {
  kind: 'call'
  id: string
  name: string
  args: JsonObject
  output: string
}
const turnArb: fc.Arbitrary<Turn> = fc.oneof(
  fc.record({ kind: fc.constant('user' as const), text }),
  fc.record({ kind: fc.constant('assistant' as const), text }),
  fc.record({ kind: fc.constant('call' as const), id, name, args, output: text }),
)
const toolArb = fc.record({
  name,
  description: text,
  parameters: fc.constant({
    type: 'object',
    properties: { q: { type: 'string', description: 'query' } },
    required: ['q'],
  }),
})
const requestArb = fc.record({
  system: fc.option(text, { nil: undefined }),
  turns: fc.array(turnArb, { minLength: 1, maxLength: 6 }),
  tools: fc.uniqueArray(toolArb, { selector: (t) => t.name, maxLength: 3 }),
  choice: fc.constantFrom('auto', 'required', 'none'),
  maxTokens: fc.integer({ min: 1, max: 4000 }),
  temperature: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
})
type Req = typeof requestArb extends fc.Arbitrary<infer T> ? T : never

function responsesRequest(r: Req): JsonObject {
  const input: JsonObject[] = []
  for (const t of r.turns) {
    if (t.kind === 'user') {
      input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text: t.text }] })
    } else if (t.kind === 'assistant') {
      input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: t.text }] })
    } else {input.push({ type: 'function_call', call_id: t.id, name: t.name, arguments: JSON.stringify(t.args) }, {
        type: 'function_call_output',
        call_id: t.id,
        output: t.output,
      })}
  }
  const body: JsonObject = { model: 'm', input, max_output_tokens: r.maxTokens }
  if (r.system !== undefined) body.instructions = r.system
  if (r.temperature !== undefined) body.temperature = r.temperature
  if (r.tools.length > 0) {
    body.tools = r.tools.map((t) => ({
      type: 'function',
      name: t.name,
      description: t.description,
      parameters: t.parameters,
    }))
    body.tool_choice = r.choice
  }
  return body
}

/** What a Responses request expresses, in a canonical form (adjacent same-role messages merge in the hub). */
function responsesMeaning(body: JsonObject): JsonObject {
  const items: JsonObject[] = []
  for (const raw of body.input as JsonObject[]) {
    const i = raw
    if (i.type === 'message') {
      const texts = (i.content as JsonObject[]).map((p) => p.text as string)
      const last = items.at(-1)
      if (last && last.role === i.role && last.type === 'message') (last.texts as string[]).push(...texts)
      else items.push({ type: 'message', role: i.role, texts })
    } else if (i.type === 'function_call') {
      items.push({ type: 'call', call_id: i.call_id, name: i.name, args: JSON.parse(i.arguments as string) })
    } else items.push({ type: 'output', call_id: i.call_id, output: i.output })
  }
  const tools = ((body.tools ?? []) as JsonObject[]).map((t) => ({
    name: t.name,
    description: t.description,
    parameters: t.parameters,
  }))
  return {
    instructions: body.instructions,
    items,
    tools,
    tool_choice: tools.length > 0 ? body.tool_choice : undefined,
    max: body.max_output_tokens,
    temperature: body.temperature,
  }
}

function geminiRequest(r: Req): JsonObject {
  const contents: JsonObject[] = []
  const push = (role: string, part: JsonObject) => {
    const last = contents.at(-1)
    if (last && last.role === role) (last.parts as JsonObject[]).push(part)
    else contents.push({ role, parts: [part] })
  }
  for (const t of r.turns) {
    if (t.kind === 'user') push('user', { text: t.text })
    else if (t.kind === 'assistant') push('model', { text: t.text })
    else {
      push('model', { functionCall: { id: t.id, name: t.name, args: t.args }, thoughtSignature: `sig-${t.id}` })
      push('user', { functionResponse: { id: t.id, name: t.name, response: { output: t.output } } })
    }
  }
  const body: JsonObject = {
    model: 'm',
    contents,
    generationConfig: {
      maxOutputTokens: r.maxTokens,
      ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
    },
  }
  if (r.system !== undefined) body.systemInstruction = { parts: [{ text: r.system }] }
  if (r.tools.length > 0) {
    body.tools = [{
      functionDeclarations: r.tools.map((t) => ({
        name: t.name,
        description: t.description,
        parametersJsonSchema: t.parameters,
      })),
    }]
    body.toolConfig = { functionCallingConfig: { mode: { auto: 'AUTO', required: 'ANY', none: 'NONE' }[r.choice] } }
  }
  return body
}

/** What a Gemini request expresses: parts in order (adjacent text parts of one turn may merge), declarations, config. */
function geminiMeaning(body: JsonObject): JsonObject {
  const turns = (body.contents as JsonObject[]).map((c) => ({
    role: c.role,
    parts: (c.parts as JsonObject[]).map((p) => ({
      ...p,
      ...(p.functionCall ? { functionCall: { ...(p.functionCall as JsonObject) } } : {}),
    })),
  }))
  const decls = ((body.tools ?? []) as JsonObject[]).flatMap((t) => (t.functionDeclarations ?? []) as JsonObject[])
    .map((d) => ({ name: d.name, description: d.description, schema: d.parametersJsonSchema ?? d.parameters }))
  return { system: body.systemInstruction, turns, decls, toolConfig: body.toolConfig, gen: body.generationConfig }
}

describe('hub round trips: requests', () => {
  it('Responses: out(in(x)) keeps messages, calls and outputs, tools, tool_choice and sampling', () => {
    fc.assert(
      fc.property(requestArb, (r) => {
        const x = responsesRequest(r)
        const memo = { names: {}, custom: new Set<string>() }
        const y = hubToResponses(responsesToHub(x, memo), { ...ctx, upstreamModel: 'm' }, {})
        assert.deepEqual(responsesMeaning(y), responsesMeaning(x))
      }),
      RUNS,
    )
  })

  it('Gemini: out(in(x)) keeps parts in order, call ids, thought signatures, declarations and generationConfig', () => {
    fc.assert(
      fc.property(requestArb, (r) => {
        const x = geminiRequest(r)
        const y = hubToGemini(geminiToHub(x), ctx)
        assert.deepEqual(geminiMeaning(y), geminiMeaning(x))
      }),
      RUNS,
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Answers

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: JsonObject } | {
  type: 'thinking'
  thinking: string
  signature: string
}
const blockArb: fc.Arbitrary<Block> = fc.oneof(
  fc.record({ type: fc.constant('text' as const), text }),
  fc.record({ type: fc.constant('tool_use' as const), id, name, input: args }),
  fc.record({
    type: fc.constant('thinking' as const),
    thinking: text,
    signature: fc.stringMatching(/^[A-Za-z0-9]{4,12}$/),
  }),
)
const messageArb = fc.record({
  content: fc.array(blockArb, { minLength: 1, maxLength: 5 }),
  stop: fc.constantFrom('end_turn', 'max_tokens'),
  usage: fc.record({
    input_tokens: fc.nat(5000),
    output_tokens: fc.nat(5000),
    cache_read_input_tokens: fc.nat(500),
    cache_creation_input_tokens: fc.constant(0),
  }),
}).map(({ content, stop, usage }): JsonObject => {
  // Adjacent text blocks are one text in every format; the hub keeps them apart only by accident.
  const merged: Block[] = []
  for (const b of content) {
    const last = merged.at(-1)
    if (last?.type === 'text' && b.type === 'text') last.text += b.text
    else merged.push({ ...b })
  }
  const sawTool = merged.some((b) => b.type === 'tool_use')
  return {
    id: 'msg_x',
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content: merged,
    stop_reason: stop === 'end_turn' && sawTool ? 'tool_use' : stop,
    stop_sequence: null,
    usage: { ...usage },
  }
})

/** What a hub answer says, with each format's opaque-token wrapping undone. */
function meaning(m: JsonObject): JsonObject {
  const content = (m.content as JsonObject[]).filter((b) => !(b.type === 'thinking' && b.thinking === '')).map((b) => {
    if (b.type === 'tool_use') return { type: 'tool_use', id: b.id, name: b.name, input: b.input }
    if (b.type === 'thinking') {
      return {
        type: 'thinking',
        thinking: b.thinking,
        signature: unwrapSignature('responses', b.signature) ?? unwrapSignature('gemini', b.signature) ?? b.signature,
      }
    }
    return { type: 'text', text: b.text }
  })
  // Responses estimates reasoning tokens when the hub has no count, so that count is left out here (formats-matrix checks real counts).
  const { output_tokens_details: _details, ...usage } = m.usage as JsonObject
  return { content, stop: m.stop_reason, usage }
}

/** The upstream side's stream translator fed the SSE text cut at `cuts`, then assembled. */
function throughStream(format: 'responses' | 'gemini', sse: string, cuts: readonly number[]): JsonObject {
  const t = HUB_SIDES[format].toHubStream!(ctx)
  const d = createSseDecoder()
  const events: SseEvent[] = []
  for (const piece of splitAt(sse, cuts)) for (const ev of d.push(piece)) events.push(...t.push(ev))
  for (const ev of d.flush()) events.push(...t.push(ev))
  events.push(...t.end())
  return assembleHubMessage(events)
}

for (const format of ['responses', 'gemini'] as const) {
  describe(`hub round trips: ${format} answers`, () => {
    const side = HUB_SIDES[format]
    const memo = { names: {}, custom: new Set<string>() }

    it('JSON: in(out(m)) keeps text, tool calls, thinking with its signature, the stop reason and usage', () => {
      fc.assert(
        fc.property(messageArb, (m) => {
          const back = side.toHubResponse(side.fromHubResponse(m, ctx, memo), ctx)
          const want = meaning(m)
          const got = meaning(back)
          assert.deepEqual(got, want)
        }),
        RUNS,
      )
    })

    it("stream: the format's SSE, cut anywhere, assembles through the hub to the same answer as its JSON", () => {
      fc.assert(
        fc.property(messageArb, cutsArb(3000), (m, cuts) => {
          const t = side.fromHubStream!(ctx, memo)
          const events = [...hubEventsOf(m).flatMap((e) => t.push(e)), ...t.end()]
          const viaStream = throughStream(format, encodeSseAll(events), cuts)
          const viaJson = side.toHubResponse(side.fromHubResponse(m, ctx, memo), ctx)
          assert.deepEqual(meaning(viaStream), meaning(viaJson))
        }),
        RUNS,
      )
    })
  })
}

function hubEventsOf(m: JsonObject): SseEvent[] {
  const d = createSseDecoder()
  return [...d.push(jsonAsStream('anthropic', m, { includeUsage: true })), ...d.flush()]
}

describe('hub pairs', () => {
  it('every pair of different formats translates a text answer in both directions (JSON and stream agree)', () => {
    const formats = ['anthropic', 'openai', 'responses', 'gemini'] as const
    const m: JsonObject = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'x',
      content: [{ type: 'text', text: 'hi there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 2 },
    }
    for (const client of formats) {
      for (const upstream of formats) {
        if (client === upstream) continue
        const tr = hubTranslation(client, upstream)
        const upJson = HUB_SIDES[upstream].fromHubResponse(m, ctx, { names: {}, custom: new Set() })
        const clientJson = tr.response(upJson, ctx)
        const back = HUB_SIDES[client].toHubResponse(clientJson, ctx)
        assert.equal(((back.content as JsonObject[])[0] as JsonObject).text, 'hi there', `${client} ← ${upstream}`)
        const upEvents = upstream === 'anthropic' ? hubEventsOf(m) : [
          ...hubEventsOf(m).flatMap((e) =>
            HUB_SIDES[upstream].fromHubStream!(ctx, { names: {}, custom: new Set() }).push(e)
          ),
        ]
        const s = tr.stream(ctx)
        const out = [...upEvents.flatMap((e) => s.push(e)), ...s.end()]
        assert.ok(s.done && !s.errored, `${client} ← ${upstream} stream: ${JSON.stringify(out).slice(0, 400)}`)
      }
    }
  })

  it('pipeStreams passes an upstream error through to the client format', () => {
    const s = pipeStreams(
      HUB_SIDES.gemini.toHubStream!(ctx),
      HUB_SIDES.responses.fromHubStream!(ctx, { names: {}, custom: new Set() }),
    )
    const out = [
      ...s.push({ data: JSON.stringify({ error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } }) }),
      ...s.end(),
    ]
    assert.ok(s.errored)
    assert.equal(out.at(-1)?.event, 'response.failed')
    assert.match(out.at(-1)?.data ?? '', /slow down/)
  })
})

describe('hub → Anthropic upstream', () => {
  const call = { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' }
  const output = { type: 'function_call_output', call_id: 'call_1', output: 'ok' }
  const tools = [{ type: 'function', name: 'f', parameters: { type: 'object' } }]

  it('keeps thinking in a tool loop only when the last assistant turn starts with a genuine thinking block', () => {
    const tr = hubTranslation('responses', 'anthropic')
    const without = tr.request({
      model: 'm',
      reasoning: { effort: 'high' },
      temperature: 0.5,
      tools,
      input: ['go', call, output].map((i) => typeof i === 'string' ? { role: 'user', content: i } : i),
    }, ctx)
    assert.equal(without.thinking, undefined, 'no thinking block before the tool call: thinking is switched off')
    assert.equal(without.temperature, 0.5)
    const reasoning = {
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: 'plan' }],
      encrypted_content: 'EqQBrealsig',
    }
    const withIt = tr.request({
      model: 'm',
      reasoning: { effort: 'high' },
      temperature: 0.5,
      tools,
      input: [{ role: 'user', content: 'go' }, reasoning, call, output],
    }, ctx)
    assert.deepEqual(withIt.thinking, { type: 'enabled', budget_tokens: 16384 })
    assert.equal(withIt.temperature, undefined, 'thinking needs the default temperature')
    const first = ((withIt.messages as JsonObject[])[1]!.content as JsonObject[])[0]
    assert.deepEqual(first, { type: 'thinking', thinking: 'plan', signature: 'EqQBrealsig' })
  })
})

describe('Gemini JSON mode', () => {
  it('a response schema (upper-case OpenAPI types too) becomes structured output; JSON without a schema an instruction', () => {
    const withSchema = geminiToHub({
      model: 'm',
      contents: [{ role: 'user', parts: [{ text: 'rate it' }] }],
      generationConfig: {
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'OBJECT', properties: { score: { type: 'INTEGER' } } },
      },
    })
    assert.deepEqual(withSchema.output_config, {
      format: { type: 'json_schema', schema: { type: 'object', properties: { score: { type: 'integer' } } } },
    })
    const bare = geminiToHub({
      model: 'm',
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ parts: [{ text: 'rate it' }] }],
      generationConfig: { responseMimeType: 'application/json' },
    })
    assert.match(String(bare.system), /^Be brief\.\n\nRespond with a single valid JSON object/)
  })
})
