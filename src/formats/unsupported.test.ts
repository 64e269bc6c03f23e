import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { JsonObject, WireFormatName } from './types.ts'
import { carries, mediaInputs, unsupportedFeature } from './unsupported.ts'
import { translationFor } from './translation.ts'
import { testCtx } from '../../test/arbitraries/formats.ts'

const FORMATS: readonly WireFormatName[] = ['anthropic', 'openai', 'responses', 'gemini']

const mime = fc.constantFrom('image/png', 'image/jpeg', 'application/pdf', 'text/plain', 'audio/wav', 'video/mp4')
const b64 = fc.constantFrom('iVBORw0KGgo=', 'JVBERi0x', 'UklGR')
const url = fc.constantFrom('https://example.com/a.png', 'https://example.com/b.pdf', 'gs://bucket/v.mp4')
const id = fc.constantFrom('file-abc', 'file_011CN')
const text = fc.constantFrom('look', 'what is this?')

/** A non-text part of each client format, in every way that format can give one. */
const media: Readonly<Record<WireFormatName, fc.Arbitrary<JsonObject>>> = {
  anthropic: fc.oneof(
    fc.record({
      type: fc.constant('image'),
      source: fc.record({ type: fc.constant('base64'), media_type: mime, data: b64 }),
    }),
    fc.record({ type: fc.constant('image'), source: fc.record({ type: fc.constant('url'), url }) }),
    fc.record({ type: fc.constant('image'), source: fc.record({ type: fc.constant('file'), file_id: id }) }),
    fc.record({
      type: fc.constant('document'),
      source: fc.record({ type: fc.constant('base64'), media_type: mime, data: b64 }),
    }),
    fc.record({ type: fc.constant('document'), source: fc.record({ type: fc.constant('url'), url }) }),
    fc.record({ type: fc.constant('document'), source: fc.record({ type: fc.constant('file'), file_id: id }) }),
  ),
  openai: fc.oneof(
    fc.record({
      type: fc.constant('image_url'),
      image_url: fc.record({ url: fc.oneof(url, mime.map((m) => `data:${m};base64,AAAA`)) }),
    }),
    fc.record({
      type: fc.constant('file'),
      file: fc.record({ file_data: mime.map((m) => `data:${m};base64,AAAA`), filename: fc.constant('f') }),
    }),
    fc.record({ type: fc.constant('file'), file: fc.record({ file_id: id }) }),
    fc.record({ type: fc.constant('input_audio'), input_audio: fc.record({ data: b64, format: fc.constant('wav') }) }),
  ),
  responses: fc.oneof(
    fc.record({ type: fc.constant('input_image'), image_url: fc.oneof(url, mime.map((m) => `data:${m};base64,AAAA`)) }),
    fc.record({ type: fc.constant('input_image'), file_id: id }),
    fc.record({
      type: fc.constant('input_file'),
      file_data: mime.map((m) => `data:${m};base64,AAAA`),
      filename: fc.constant('f'),
    }),
    fc.record({ type: fc.constant('input_file'), file_url: url }),
    fc.record({ type: fc.constant('input_file'), file_id: id }),
  ),
  gemini: fc.oneof(
    fc.record({ inlineData: fc.record({ mimeType: mime, data: b64 }) }),
    fc.record({ fileData: fc.record({ mimeType: mime, fileUri: url }) }),
  ),
}

/** A text part of each format, so a turn is never only media. */
const textPart = (f: WireFormatName, t: string): JsonObject =>
  f === 'responses' ? { type: 'input_text', text: t } : f === 'gemini' ? { text: t } : { type: 'text', text: t }

/** A one-turn user prompt of `format` holding `parts`, or those parts in a tool's result. */
function bodyOf(format: WireFormatName, parts: JsonObject[], inToolResult: boolean): JsonObject {
  const content = [...parts, textPart(format, 'and?')]
  if (format === 'anthropic') {
    const call = [{ role: 'user', content: 'go' }, {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'read', input: {} }],
    }]
    const messages = inToolResult
      ? [...call, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content }] }]
      : [{ role: 'user', content }]
    return { model: 'm', max_tokens: 10, messages }
  }
  if (format === 'openai') return { model: 'm', messages: [{ role: 'user', content }] }
  if (format === 'responses') {
    const input = inToolResult
      ? [{ role: 'user', content: 'go' }, { type: 'function_call', call_id: 'c1', name: 'read', arguments: '{}' }, {
        type: 'function_call_output',
        call_id: 'c1',
        output: content,
      }]
      : [{ role: 'user', content }]
    return { model: 'm', input }
  }
  if (inToolResult) {
    // Gemini 3's multimodal function response: the tool's media inside it, the text beside.
    const media = content.filter((p) => p.text === undefined)
    return {
      contents: [
        { role: 'user', parts: [{ text: 'go' }] },
        { role: 'model', parts: [{ functionCall: { id: 'c1', name: 'read_file', args: {} } }] },
        {
          role: 'user',
          parts: [
            { functionResponse: { id: 'c1', name: 'read_file', response: { output: 'read' }, parts: media } },
            ...content.filter((p) => p.text !== undefined),
          ],
        },
      ],
    }
  }
  return { contents: [{ role: 'user', parts: content }] }
}

const cases = fc.constantFrom(...FORMATS).chain((client) =>
  fc.tuple(
    fc.constant(client),
    fc.constantFrom(...FORMATS.filter((f) => f !== client)),
    fc.array(media[client], { minLength: 1, maxLength: 3 }),
    fc.boolean(),
    text,
  )
)

describe('unsupportedFeature', () => {
  it('refuses n > 1 for every upstream but Chat Completions, naming n', () => {
    const n3 = { model: 'm', n: 3, messages: [] }
    for (const upstream of ['anthropic', 'responses', 'gemini'] as const) {
      assert.equal(unsupportedFeature('openai', upstream, n3)?.param, 'n', upstream)
    }
    assert.equal(unsupportedFeature('openai', 'openai', n3), undefined)
    assert.equal(unsupportedFeature('openai', 'anthropic', { model: 'm', n: 1, messages: [] }), undefined)
  })

  it('names the part and the upstream: a Chat input_audio part, an OpenAI file id, a document URL for Chat', () => {
    const chat = (part: JsonObject) => ({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, part] }],
    })
    const audio = chat({ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } })
    assert.deepEqual(unsupportedFeature('openai', 'gemini', audio), {
      param: 'messages.0.content.1',
      message: 'messages.0.content.1: an inline audio cannot be sent to a Gemini upstream',
    })
    const file = { model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-abc' }] }] }
    assert.match(
      unsupportedFeature('responses', 'anthropic', file)?.message ?? '',
      /^input\.0\.content\.0: a file id \(document\), which names a file stored with the provider that issued it, cannot be sent to an Anthropic Messages upstream$/,
    )
    const doc = {
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }] }],
    }
    assert.equal(unsupportedFeature('anthropic', 'openai', doc)?.param, 'messages.0.content.0')
    assert.equal(
      unsupportedFeature('anthropic', 'responses', doc),
      undefined,
      'a Responses input_file takes a file_url',
    )
    assert.equal(unsupportedFeature('anthropic', 'anthropic', doc), undefined)
  })

  it('a document given as text (text or content source) reaches every other format as text, in a message and in a tool result', () => {
    const docs = [
      { type: 'document', title: 'Notes', source: { type: 'text', media_type: 'text/plain', data: 'alpha beta' } },
      { type: 'document', source: { type: 'content', content: [{ type: 'text', text: 'gamma delta' }] } },
    ]
    for (const inToolResult of [false, true]) {
      const body = bodyOf('anthropic', docs, inToolResult)
      for (const upstream of ['openai', 'responses', 'gemini'] as const) {
        assert.equal(unsupportedFeature('anthropic', upstream, body), undefined)
        const sent = JSON.stringify(translationFor('anthropic', upstream)!.request(body, testCtx()))
        for (const words of ['Notes', 'alpha beta', 'gamma delta']) {
          assert.ok(sent.includes(words), `${upstream}, tool result ${inToolResult}: ${words} in ${sent}`)
        }
      }
    }
  })

  it("refuses Anthropic's built-in client tools for other formats, which would drop them; web search and custom tools pass", () => {
    const withTools = (tools: JsonObject[]) => ({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
      tools,
    })
    const fn = { name: 'Bash', description: 'run', input_schema: { type: 'object', properties: {} } }
    const bash = withTools([fn, { type: 'bash_20250124', name: 'bash' }])
    for (const upstream of ['openai', 'responses', 'gemini'] as const) {
      assert.deepEqual(unsupportedFeature('anthropic', upstream, bash)?.param, 'tools.1', upstream)
    }
    assert.match(
      unsupportedFeature(
        'anthropic',
        'openai',
        withTools([{ type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' }]),
      )
        ?.message ?? '',
      /^tools\.0: Anthropic's built-in text_editor_20250728 tool cannot be sent to an OpenAI Chat Completions upstream$/,
    )
    assert.equal(unsupportedFeature('anthropic', 'anthropic', bash), undefined)
    const fine = withTools([fn, { type: 'web_search_20250305', name: 'web_search' }, {
      type: 'custom',
      name: 'c',
      input_schema: {},
    }])
    assert.equal(unsupportedFeature('anthropic', 'openai', fine), undefined)
  })

  it('refuses a Chat tool other than a function for other formats, which would drop it', () => {
    const fn = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } }
    const custom = { type: 'custom', custom: { name: 'apply_patch', format: { type: 'text' } } }
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], tools: [fn, custom] }
    assert.deepEqual(unsupportedFeature('openai', 'anthropic', body), {
      param: 'tools.1',
      message: 'tools.1: a "custom" tool cannot be sent to an Anthropic Messages upstream',
    })
    assert.equal(unsupportedFeature('openai', 'openai', body), undefined)
    assert.equal(unsupportedFeature('openai', 'gemini', { ...body, tools: [fn] }), undefined)
    const untyped = { ...body, tools: [{ function: fn.function }] }
    assert.match(
      unsupportedFeature('openai', 'responses', untyped)?.message ?? '',
      /^tools\.0: a tool without type "function"/,
    )
  })

  it('law: a request it lets through keeps every image, file and sound in translation; one it refuses names a part it would lose', () => {
    fc.assert(
      fc.property(cases, ([client, upstream, parts, inToolResult, t]) => {
        const body = bodyOf(client, [textPart(client, t), ...parts], inToolResult)
        const sent = mediaInputs(client, body)
        assert.equal(sent.length, parts.length, 'every generated part is seen')
        const refused = unsupportedFeature(client, upstream, body)
        if (refused) {
          const part = sent.find((m) => m.path === refused.param)
          assert.ok(part && !carries(client, upstream, part), JSON.stringify(refused))
          return
        }
        const translated = translationFor(client, upstream)!.request(body, testCtx()) as JsonObject
        const kept = mediaInputs(upstream, translated)
        assert.equal(kept.length, sent.length, `${client} → ${upstream}: ${JSON.stringify(translated)}`)
      }),
      { numRuns: 1500 },
    )
  })
})
