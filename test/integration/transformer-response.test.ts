/**
 * CCR's `transformResponseOut` for plugin transformers: called on the upstream's answer (JSON
 * and SSE, in the upstream's format) before it is translated for the client, provider-level
 * hooks last to first then model-level ones; a failing hook is fenced.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, openaiBody, testConfigFile } from './helpers.ts'
import { fixture, hardenedProxy } from '../fixtures/hardened-proxy.ts'

const file = (
  providerUse: unknown[],
  modelUse: unknown[],
  plugins: { path: string; options?: Record<string, unknown> }[],
  router: Record<string, unknown> = {},
) => ({
  ...testConfigFile(),
  transformers: plugins,
  Providers: [
    {
      name: 'anth',
      api_base_url: 'http://mock.test/v1/messages',
      api_key: 'sk-ant-secret-1',
      models: ['mock-a'],
      transformer: { use: ['Anthropic'] },
    },
    {
      name: 'oai',
      api_base_url: 'http://mock.test/v1/chat/completions',
      api_key: 'sk-oai-secret-2',
      models: ['gpt-up', 'mock-o'],
      transformer: { use: providerUse, 'gpt-up': { use: modelUse } },
    },
  ],
  Router: { default: 'oai,gpt-up', ...router },
})
const tagger = (name: string, tag: string, extra: Record<string, unknown> = {}) => ({
  path: fixture('transformer-response.cjs'),
  options: { name, tag, ...extra },
})

async function sseText(res: Response): Promise<string> {
  const text = await res.text()
  return text.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]').map((l) =>
    JSON.parse(l.slice(6)) as Record<string, unknown>
  )
    .map((d) => JSON.stringify(d)).join('\n')
}

describe('plugin transformResponseOut', () => {
  it('JSON: runs before translation (an Anthropic client sees the tagged text), in CCR order: provider last-to-first, then model last-to-first', async () => {
    const p = await hardenedProxy(file(['A', 'B'], ['M'], [tagger('A', '<A>'), tagger('B', '<B>'), tagger('M', '<M>')]))
    const res = await p.post('/v1/messages', anthropicBody('oai,gpt-up'))
    assert.equal(res.status, 200)
    const body = (await res.json()) as { content: { type: string; text: string }[] }
    assert.match(body.content[0]!.text, /<B><A><M>$/)
    await p.close()
  })

  it('SSE: the hook gets the stream and its rewrite reaches the client, through translation and as a pass-through', async () => {
    const p = await hardenedProxy(file(['A'], [], [tagger('A', '#')]))
    const translated = await p.post('/v1/messages', anthropicBody('oai,mock-o:chunks=3', { stream: true }))
    assert.equal(translated.status, 200)
    const t = await translated.text()
    assert.equal((t.match(/"text_delta","text":"[^"]*#"/g) ?? []).length, 3, t)
    assert.match(t, /event: message_stop/)
    const same = await p.post('/v1/chat/completions', openaiBody('oai,mock-o:chunks=3', { stream: true }))
    const s = await sseText(same)
    assert.equal((s.match(/#"/g) ?? []).length, 3, s)
    await p.close()
  })

  it('SSE: a stream cut after the commit point and continued on another try runs the hook on the continuation too', async () => {
    const p = await hardenedProxy(file(['A'], [], [tagger('A', '#')]))
    const res = await p.post('/v1/messages', anthropicBody('oai,mock-o:cut=5', { stream: true }))
    assert.equal(res.status, 200)
    const t = await res.text()
    const texts = [...t.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1])
    assert.equal(
      texts.join(''),
      Array.from({ length: 10 }, (_, i) => `[${String(i + 1).padStart(4, '0')}] #`).join(''),
      t,
    )
    assert.match(t, /event: message_stop/)
    // The second upstream call is the continuation: the client's text so far as a prefill.
    const continuation = p.upstreamBodies[1] as { messages: { role: string; content: unknown }[] } | undefined
    assert.equal(continuation?.messages.at(-1)?.role, 'assistant', JSON.stringify(p.upstreamBodies))
    await p.close()
  })

  it('the hook sees the upstream model; a hook that throws before reading keeps the answer (warning logged)', async () => {
    const p = await hardenedProxy(file(['A', 'X'], [], [tagger('A', '!'), tagger('X', '?', { mode: 'throw' })]))
    const res = await p.post('/v1/chat/completions', openaiBody('oai,mock-o'))
    assert.equal(res.status, 200)
    const body = (await res.json()) as { choices: { message: { content: string } }[]; x_tagged_model?: string }
    assert.match(body.choices[0]!.message.content, /!$/)
    assert.equal(body.x_tagged_model, 'mock-o')
    assert.ok(p.logs.some((l) => l.includes('transformer X: transformResponseOut threw (tagger exploded)')))
    await p.close()
  })

  it('a hook that fails after reading the answer makes it a 502, failed over like one', async () => {
    const p = await hardenedProxy(
      file(['E'], [], [tagger('E', '', { mode: 'eat' })], { background: 'anth,mock-a', fallbackToOtherTiers: true }),
    )
    const res = await p.post('/v1/messages', anthropicBody('claude-sonnet-4'))
    // The default (oai,gpt-up) fails with 502 on every attempt; another tier (anth) answers.
    assert.equal(res.status, 200, await res.clone().text())
    assert.match(res.headers.get('x-switchyard-route') ?? '', /anth,/)
    await p.close()
  })
})
