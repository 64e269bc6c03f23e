/**
 * Routing rules, model capabilities and the explain endpoint through the whole app, against
 * the in-process mock (no ports).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, configOf, openaiBody, settled, spyingProxy, testConfigFile, testProxy } from './helpers.ts'
import { DESCRIBE_PROMPT } from '../../src/proxy/image-descriptions.ts'

const IMAGE = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }

/** The test providers with capabilities written in config: gpt-up has no vision and a small window. */
function withCaps(router: Record<string, unknown> = {}): Record<string, unknown> {
  const file = testConfigFile({}, router)
  const [anth, oai] = file.Providers as Record<string, unknown>[]
  anth!.models = ['claude-up', {
    name: 'mock-a',
    vision: true,
    tools: true,
    contextWindow: 200000,
    maxOutputTokens: 1000,
  }]
  oai!.models = [{ name: 'gpt-up', vision: false, tools: false, contextWindow: 4000, maxOutputTokens: 500 }, 'mock-o']
  return file
}

describe('routing rules through the pipeline', () => {
  const rules = [
    {
      name: 'ci-tools',
      when: { header: { 'x-switchyard-tag': 'ci' }, hasTools: true },
      route: ['anth,mock-a', 'oai,mock-o'],
    },
    { name: 'curl', when: { header: { 'user-agent': 'curl/*' } }, route: 'oai,mock-o' },
    { name: 'long', when: { inputTokens: { min: 3000 } }, route: 'anth,claude-up' },
  ]

  it('the first matching rule routes, shows as rule=<name> and in the log; no match falls through to CCR scenarios', async () => {
    const p = await testProxy({ ...testConfigFile({}, { rules }), LOG: true, LOG_LEVEL: 'info' })
    const tools = [{ name: 'get', input_schema: { type: 'object' } }]
    const ci = await p.post('/v1/messages', anthropicBody('claude-sonnet', { tools }), {
      'x-switchyard-tag': 'ci',
      'user-agent': 'curl/8',
    })
    assert.equal(ci.status, 200)
    assert.match(ci.headers.get('x-switchyard-route') ?? '', /^rule anth,mock-a; .*; rule=ci-tools$/)
    await ci.text()
    const curl = await p.post('/v1/chat/completions', openaiBody('gpt-whatever'), {
      'x-switchyard-tag': 'ci',
      'user-agent': 'curl/8',
    })
    assert.match(curl.headers.get('x-switchyard-route') ?? '', /^rule oai,mock-o; .*rule=curl/)
    await curl.text()
    const none = await p.post('/v1/messages', anthropicBody('claude-3-5-haiku'))
    assert.match(none.headers.get('x-switchyard-route') ?? '', /^background anth,mock-a; /)
    assert.doesNotMatch(none.headers.get('x-switchyard-route') ?? '', /rule=/)
    await none.text()
    const logged = p.logs.map((l) => JSON.parse(l) as { msg?: string; rule?: string }).filter((l) => l.rule)
    assert.deepEqual(logged.map((l) => l.rule), ['ci-tools', 'curl'])
    await p.close()
  })

  it('an explicit provider,model still comes before the rules', async () => {
    const p = await testProxy(testConfigFile({}, { rules: [{ name: 'all', route: 'oai,mock-o' }] }))
    const res = await p.post('/v1/messages', anthropicBody('anth,claude-up'))
    assert.match(res.headers.get('x-switchyard-route') ?? '', /^explicit anth,claude-up; /)
    await res.text()
    // A bare OpenAI model id that one provider lists is not the client naming a provider: rules apply.
    const bare = await p.post('/v1/chat/completions', openaiBody('claude-up'))
    assert.match(bare.headers.get('x-switchyard-route') ?? '', /^rule oai,mock-o; .*rule=all/)
    await bare.text()
    await p.close()
  })

  it('the estimated-tokens condition sees the real estimate', async () => {
    const p = await testProxy(testConfigFile({}, { rules }))
    const res = await p.post(
      '/v1/messages',
      anthropicBody('claude-sonnet', { messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(1200) }] }),
    )
    assert.match(res.headers.get('x-switchyard-route') ?? '', /rule=long/)
    await res.text()
    await p.close()
  })

  it('GET /v1/routing/explain says which rule and why, without traffic', async () => {
    const p = await testProxy(testConfigFile({}, { rules }))
    const q = '/v1/routing/explain?model=claude-sonnet&tools=true&header=x-switchyard-tag:%20ci'
    const e = (await (await p.app.request(q)).json()) as {
      rule: string
      target: string
      checks: { rule: string; matched: boolean; reasons?: string[]; failed?: string }[]
      plan: string[]
    }
    assert.equal(e.rule, 'ci-tools')
    assert.equal(e.target, 'anth,mock-a')
    assert.deepEqual(e.checks[0]?.reasons, ['tools=true', 'header x-switchyard-tag matches exact ci'])
    assert.equal(e.plan[0], 'anth,mock-a')
    const miss = (await (await p.app.request('/v1/routing/explain?model=x&scenario=think')).json()) as typeof e & {
      decided_by: string
    }
    assert.equal(miss.rule, null)
    assert.match(miss.decided_by, /scenario think/)
    assert.equal(miss.target, 'anth,claude-up')
    assert.equal(miss.checks.find((c) => c.rule === 'ci-tools')?.failed, 'tools is false, rule wants true')
    assert.equal((await p.app.request('/v1/routing/explain?input_tokens=-3')).status, 400)
    await p.close()
  })
})

describe('model capabilities through the pipeline', () => {
  it('an image skips a target without vision and the route header says so', async () => {
    const p = await testProxy(withCaps())
    const res = await p.post(
      '/v1/messages',
      anthropicBody('claude-sonnet', {
        messages: [{ role: 'user', content: [IMAGE, { type: 'text', text: 'what?' }] }],
      }),
    )
    assert.equal(res.status, 200)
    const route = res.headers.get('x-switchyard-route') ?? ''
    assert.match(route, /skipped=oai,gpt-up \(no vision\)/)
    assert.doesNotMatch(route, /^default oai,gpt-up/)
    await res.text()
    await p.close()
  })

  it('a conversation that showed an image turns ago goes on on a model without vision: the image becomes a line of text', async () => {
    // Claude Code keeps every image in the history: before, each later turn skipped gpt-up (no
    // vision), and with no other tier, answered 400 for the rest of the session.
    const p = await spyingProxy(withCaps({ fallbackToOtherTiers: false }))
    const res = await p.post(
      '/v1/messages',
      anthropicBody('claude-sonnet', {
        messages: [
          { role: 'user', content: [IMAGE, { type: 'text', text: 'what is this?' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'A red square.' }] },
          { role: 'user', content: [{ type: 'text', text: 'and make it blue' }] },
        ],
      }),
    )
    assert.equal(res.status, 200, await res.clone().text())
    assert.match(res.headers.get('x-switchyard-route') ?? '', /^default oai,gpt-up/)
    await res.text()
    const sent = JSON.parse(p.seen.at(-1)!.body) as { messages: { content: unknown }[] }
    assert.doesNotMatch(JSON.stringify(sent), /image_url|iVBORw0KGgo/)
    assert.match(JSON.stringify(sent.messages[0]!.content), /image omitted: this model does not take images/)
    // A model that sees images still gets them.
    const seeing = await p.post(
      '/v1/messages',
      anthropicBody('anth,mock-a', {
        messages: [
          { role: 'user', content: [IMAGE] },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'again' },
        ],
      }),
    )
    await seeing.text()
    assert.match(p.seen.at(-1)!.body, /iVBORw0KGgo/)
    await p.close()
  })

  it("with Router.image set, a model without vision gets each earlier image as the image model's description, asked once", async () => {
    const p = await spyingProxy(withCaps({ fallbackToOtherTiers: false, image: 'anth,mock-a' }))
    const turn = (text: string) =>
      p.post(
        '/v1/messages',
        anthropicBody('claude-sonnet', {
          messages: [
            { role: 'user', content: [IMAGE, { type: 'text', text: 'what is this?' }] },
            { role: 'assistant', content: [{ type: 'text', text: 'A red square.' }] },
            { role: 'user', content: [{ type: 'text', text }] },
          ],
        }),
      )
    const asked = () => p.seen.filter((s) => s.body.includes(DESCRIBE_PROMPT))
    const first = await turn('and make it blue')
    assert.equal(first.status, 200, await first.clone().text())
    assert.match(first.headers.get('x-switchyard-route') ?? '', /^default oai,gpt-up/)
    await first.text()
    assert.equal(asked().length, 1, 'the image model was asked once')
    assert.match(asked()[0]!.body, /iVBORw0KGgo/, 'with the image')
    const sent = JSON.parse(p.seen.at(-1)!.body) as { messages: { content: unknown }[] }
    assert.doesNotMatch(JSON.stringify(sent), /iVBORw0KGgo/)
    assert.match(
      JSON.stringify(sent.messages[0]!.content),
      /Image, as anth,mock-a described it: \[0001\]/,
    )
    // The next turn has the same image: its description is remembered.
    const second = await turn('and now green')
    await second.text()
    assert.equal(asked().length, 1)
    assert.match(p.seen.at(-1)!.body, /as anth,mock-a described it/)
    await p.close()
  })

  it("an agent's turn that brings an image has it described ahead, so the next turn on the text-only default does not wait", async () => {
    const p = await spyingProxy(withCaps({ fallbackToOtherTiers: false, image: 'anth,mock-a' }))
    const asked = () => p.seen.filter((s) => s.body.includes(DESCRIBE_PROMPT))
    const shown = [{ role: 'user', content: [IMAGE, { type: 'text', text: 'what is this?' }] }]
    // A script's one-off question: no session, nothing described ahead.
    await (await p.post('/v1/messages', anthropicBody('claude-sonnet', { messages: shown }))).text()
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(asked().length, 0)
    // Claude Code's turn (its session in metadata.user_id).
    const metadata = { user_id: 'user_abc_account__session_0b7c4e2a-1d2f-4c3b-9a8e-5f6d7c8b9a0e' }
    const first = await p.post('/v1/messages', anthropicBody('claude-sonnet', { messages: shown, metadata }))
    assert.match(first.headers.get('x-switchyard-route') ?? '', /^image anth,mock-a/)
    await first.text()
    await settled(() => asked().length === 1)
    assert.equal(asked().length, 1, 'described beside the image turn')
    const later = [...shown, { role: 'assistant', content: 'A red square.' }, { role: 'user', content: 'make it blue' }]
    const next = await p.post('/v1/messages', anthropicBody('claude-sonnet', { metadata, messages: later }))
    await next.text()
    assert.equal(asked().length, 1, 'the next turn found it remembered')
    assert.match(p.seen.at(-1)!.body, /as anth,mock-a described it: \[0001\]/)
    await p.close()
  })

  it("forceUseImageAgent: an image never routes to Router.image; every image, the last turn's too, goes as its description", async () => {
    // CCR's README: set it when the image model cannot call tools (it then only describes).
    const p = await spyingProxy({
      ...withCaps({ fallbackToOtherTiers: false, image: 'anth,mock-a' }),
      forceUseImageAgent: true,
    })
    const res = await p.post(
      '/v1/messages',
      anthropicBody('claude-sonnet', {
        messages: [{ role: 'user', content: [IMAGE, { type: 'text', text: 'what is this?' }] }],
      }),
    )
    assert.equal(res.status, 200, await res.clone().text())
    assert.match(
      res.headers.get('x-switchyard-route') ?? '',
      /^default oai,gpt-up/,
      'the main model answers, with its tools',
    )
    await res.text()
    const asked = p.seen.filter((s) => s.body.includes(DESCRIBE_PROMPT))
    assert.equal(asked.length, 1)
    const sent = p.seen.at(-1)!.body
    assert.doesNotMatch(sent, /iVBORw0KGgo/)
    assert.match(sent, /Image, as anth,mock-a described it: \[0001\]/)
    await p.close()
  })

  it('an image model that fails leaves the plain line, and the request is answered', async () => {
    const p = await spyingProxy(withCaps({ fallbackToOtherTiers: false, image: 'anth,mock-a:status=500' }))
    const res = await p.post(
      '/v1/messages',
      anthropicBody('claude-sonnet', {
        messages: [
          { role: 'user', content: [IMAGE] },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'again' },
        ],
      }),
    )
    assert.equal(res.status, 200, await res.clone().text())
    await res.text()
    assert.ok(p.seen.some((s) => s.body.includes(DESCRIBE_PROMPT)), 'it was asked')
    assert.match(p.seen.at(-1)!.body, /image omitted: this model does not take images/)
    await p.close()
  })

  it("nothing can serve: a 400 in the client's own format naming the capability", async () => {
    const p = await testProxy(withCaps({ fallbackToOtherTiers: false }))
    const tools = [{ name: 'get', input_schema: { type: 'object' } }]
    const a = await p.post('/v1/messages', anthropicBody('claude-sonnet', { tools }))
    assert.equal(a.status, 400)
    const ab = (await a.json()) as { type: string; error: { type: string; message: string } }
    assert.equal(ab.type, 'error')
    assert.match(ab.error.message, /needs tool calling .*oai,gpt-up \(no tool calling\)/)
    const o = await p.post(
      '/v1/chat/completions',
      openaiBody('claude-sonnet', {
        messages: [{
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }],
        }],
      }),
    )
    assert.equal(o.status, 400)
    const ob = (await o.json()) as { error: { message: string; param?: string } }
    assert.equal(ob.error.param, 'vision')
    assert.match(ob.error.message, /needs vision/)
    await p.close()
  })

  it('a prompt over the window goes to a target whose window fits (long-context by real windows)', async () => {
    const p = await testProxy(withCaps({ longContext: 'anth,mock-a', longContextThreshold: 100000 }))
    const res = await p.post(
      '/v1/messages',
      anthropicBody('claude-sonnet', { messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(2400) }] }),
    )
    assert.equal(res.status, 200)
    assert.match(
      res.headers.get('x-switchyard-route') ?? '',
      /^default anth,mock-a; .*skipped=oai,gpt-up \(context 4000 < ~\d+ \+ 256\)/,
    )
    await res.text()
    await p.close()
  })

  it("max_tokens is capped at the target's limit instead of letting the upstream reject it", async () => {
    const p = await spyingProxy(withCaps())
    await (await p.post('/v1/messages', anthropicBody('oai,gpt-up', { max_tokens: 64000 }))).text()
    await (await p.post('/v1/chat/completions', openaiBody('anth,mock-a', { max_tokens: 64000 }))).text()
    await (await p.post('/v1/messages', anthropicBody('anth,mock-a', { max_tokens: 100 }))).text()
    const sent = p.seen.map((s) => (JSON.parse(s.body) as { max_tokens?: number; max_completion_tokens?: number }))
    assert.equal(sent[0]?.max_tokens ?? sent[0]?.max_completion_tokens, 500)
    assert.equal(sent[1]?.max_tokens, 1000)
    assert.equal(sent[2]?.max_tokens, 100)
    await p.close()
  })
})

describe('rules are hot-reloadable', () => {
  it('a reload swaps the rules; a bad rule is rejected naming the rule and field, and the old rules keep serving', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { startMockServer } = await import('../../src/demo/server.ts')
    const { buildServer } = await import('../../src/cli/server.ts')
    const { silentLogger } = await import('../../src/log.ts')
    const mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-rules-'))
    const path = join(dir, 'config.json')
    const fileWith = (rules: unknown) => ({
      LOG: false,
      Providers: [{
        name: 'oai',
        api_base_url: `${mock.url}/v1/chat/completions`,
        api_key: 'k',
        models: ['m', 'cheap'],
      }],
      Router: { default: 'oai,m', rules },
    })
    writeFileSync(path, JSON.stringify(fileWith([{ name: 'first', route: 'oai,cheap' }])))
    const s = await buildServer(configOf(fileWith([{ name: 'first', route: 'oai,cheap' }])), {
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      log: silentLogger,
      configPath: path,
      env: {},
    })
    const route = async () => {
      const res = await fetch(`${s.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(anthropicBody('claude-sonnet')),
        signal: AbortSignal.timeout(10_000),
      })
      await res.text()
      return res.headers.get('x-switchyard-route') ?? ''
    }
    try {
      assert.match(await route(), /rule=first/)
      writeFileSync(path, JSON.stringify(fileWith([{ name: 'broken', when: { hasTool: true }, route: 'oai,cheap' }])))
      await assert.rejects(s.reload(), /Router\.rules\[0\]\.when\.hasTool: rule "broken": unknown condition/)
      assert.match(await route(), /rule=first/)
      writeFileSync(path, JSON.stringify(fileWith([{ name: 'second', when: { model: 'claude-*' }, route: 'oai,m' }])))
      assert.match(await s.reload(), /reloaded/)
      assert.match(await route(), /^rule oai,m; .*rule=second/)
    } finally {
      await s.shutdown(1_000)
      await mock.stop()
    }
  })
})
