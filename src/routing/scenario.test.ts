import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { demoConfig } from '../config/demo.ts'
import type { RouterConfig } from '../config/types.ts'
import type { JsonObject } from '../formats/types.ts'
import { chooseScenario, extractSubagent, headerSessionId, lastUserHasImage, sessionIdOf } from './scenario.ts'

const providers = [
  { name: 'ds', models: ['chat', 'Reasoner'] },
  { name: 'or', models: ['long', 'vision', 'search'] },
]
const ROUTER: RouterConfig = {
  ...demoConfig('http://127.0.0.1:1').router,
  default: 'ds,chat',
  background: 'ds,bg',
  think: 'ds,Reasoner',
  longContext: 'or,long',
  longContextThreshold: 60000,
  webSearch: 'or,search',
  image: 'or,vision',
}

const IMAGE = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }
const user = (content: unknown): JsonObject => ({ role: 'user', content })
const TAG = '<CCR-SUBAGENT-MODEL>or,vision</CCR-SUBAGENT-MODEL>'

function decide(body: JsonObject, tokenCount = 100, lastPromptTokens?: number, router: RouterConfig = ROUTER) {
  return chooseScenario({ body, tokenCount, lastPromptTokens, providers }, router)
}

const base: JsonObject = { model: 'claude-sonnet-4', messages: [user('hi')], max_tokens: 10 }

describe('chooseScenario: each scenario', () => {
  it('explicit provider,model short-circuits and returns the configured casing', () => {
    assert.deepEqual(decide({ ...base, model: 'DS,reasoner' }, 1e6), {
      scenario: 'explicit',
      target: 'ds,Reasoner',
      body: { ...base, model: 'DS,reasoner' },
    })
    assert.equal(decide({ ...base, model: 'ghost,m' }).target, 'ghost,m')
  })

  it('longContext above the threshold, and on last usage only with more than 20000 tokens now', () => {
    assert.equal(decide(base, 60001).scenario, 'longContext')
    assert.equal(decide(base, 60000).scenario, 'default')
    assert.equal(decide(base, 20001, 70000).scenario, 'longContext')
    assert.equal(decide(base, 20000, 70000).scenario, 'default')
    assert.equal(decide(base, 30000, 60000).scenario, 'default')
  })

  it('background for claude + haiku models, case-insensitively', () => {
    assert.equal(decide({ ...base, model: 'Claude-3-5-HAIKU-20241022' }).scenario, 'background')
    assert.equal(decide({ ...base, model: 'haiku-claude' }).target, 'ds,bg')
    assert.equal(decide({ ...base, model: 'claude-sonnet-4' }).scenario, 'default')
  })

  it('webSearch when a tool type starts with web_search', () => {
    assert.equal(
      decide({ ...base, tools: [{ name: 'x', input_schema: {} }, { type: 'web_search_20250305', name: 'web_search' }] })
        .scenario,
      'webSearch',
    )
    assert.equal(decide({ ...base, tools: [{ type: 'custom', name: 'web_search' }] }).scenario, 'default')
  })

  it('think for thinking asked for, but not for {type:"disabled"}', () => {
    assert.equal(decide({ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } }).scenario, 'think')
    assert.equal(decide({ ...base, thinking: true }).scenario, 'think')
    assert.equal(decide({ ...base, thinking: { type: 'disabled' } }).scenario, 'default')
    assert.equal(decide({ ...base, thinking: null }).scenario, 'default')
  })

  it("Claude Code 2.x's adaptive thinking is think only above its default effort", () => {
    // What Claude Code 2.1.332 sends on every request (captured): adaptive, at the effort the user set.
    const adaptive = (effort: string) => ({
      ...base,
      thinking: { type: 'adaptive', display: 'omitted' },
      output_config: { effort },
    })
    assert.equal(decide(adaptive('medium')).scenario, 'default')
    assert.equal(decide(adaptive('low')).scenario, 'default')
    for (const effort of ['high', 'xhigh', 'max']) assert.equal(decide(adaptive(effort)).scenario, 'think', effort)
    assert.equal(decide({ ...base, thinking: { type: 'adaptive' } }).scenario, 'default', 'no effort: the default')
    // The route stage reads the client's own body and says so; a hub translation's budget does not decide.
    const hub = { ...base, thinking: { type: 'enabled', budget_tokens: 4096 } }
    assert.equal(
      chooseScenario({ body: hub, tokenCount: 100, providers, thinking: false }, ROUTER).scenario,
      'default',
    )
  })

  it('image when the LAST user message has an image, directly or inside a tool_result', () => {
    assert.equal(decide({ ...base, messages: [user([IMAGE, { type: 'text', text: 'what?' }])] }).scenario, 'image')
    const viaTool = user([{ type: 'tool_result', tool_use_id: 't', content: [IMAGE] }])
    assert.equal(decide({ ...base, messages: [viaTool] }).target, 'or,vision')
    const earlier = [user([IMAGE]), { role: 'assistant', content: 'ok' }, user('and now?')]
    assert.equal(decide({ ...base, messages: earlier }).scenario, 'default')
    // Claude Code 2.1 ends its messages with a system message (its environment) after the user's turn.
    const environment = { role: 'system', content: [{ type: 'text', text: '# Environment' }] }
    assert.equal(
      decide({ ...base, messages: [user([IMAGE, { type: 'text', text: 'what?' }]), environment] }).scenario,
      'image',
    )
    assert.equal(decide({ ...base, messages: [...earlier, environment] }).scenario, 'default')
  })

  it('a scenario whose Router key is unset falls through to the next', () => {
    const body = {
      ...base,
      model: 'claude-haiku',
      tools: [{ type: 'web_search_20250305' }],
      thinking: { type: 'enabled' },
    }
    const noBg: RouterConfig = { ...ROUTER, background: undefined }
    assert.equal(decide(body, 100, undefined, noBg).scenario, 'webSearch')
    assert.equal(decide(body, 100, undefined, { ...noBg, webSearch: undefined }).scenario, 'think')
    assert.equal(decide(body, 100, undefined, { ...noBg, webSearch: undefined, think: undefined }).scenario, 'default')
    assert.equal(decide(base, 1e6, undefined, { ...ROUTER, longContext: undefined }).scenario, 'default')
  })
})

describe('chooseScenario: order', () => {
  const everything: JsonObject = {
    model: 'claude-3-5-haiku',
    system: [{ type: 'text', text: 'a' }, { type: 'text', text: TAG }],
    tools: [{ type: 'web_search_20250305' }],
    thinking: { type: 'enabled' },
    messages: [user([IMAGE])],
  }
  it('explicit > longContext > subagent > image > background > webSearch > think > default', () => {
    assert.equal(decide({ ...everything, model: 'ds,chat' }, 1e6).scenario, 'explicit')
    assert.equal(decide(everything, 1e6).scenario, 'longContext')
    assert.equal(decide(everything).scenario, 'subagent')
    const noTag = { ...everything, system: 'plain' }
    assert.equal(decide(noTag).scenario, 'image')
    const noImage = { ...noTag, messages: [user('text')] }
    assert.equal(decide(noImage).scenario, 'background')
    assert.equal(decide({ ...noImage, model: 'claude-opus' }).scenario, 'webSearch')
    assert.equal(decide({ ...noImage, model: 'claude-opus', tools: [] }).scenario, 'think')
  })

  it('law: an explicit provider,model always wins, whatever else the request carries', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ds,chat', 'or,long', 'x,y,z'),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.nat(200000),
        (model, tag, img, think, tokens) => {
          const body = {
            model,
            system: tag ? [{ type: 'text', text: TAG }] : 'sys',
            messages: [user(img ? [IMAGE] : 'hi')],
            ...(think ? { thinking: true } : {}),
            tools: [{ type: 'web_search_1' }],
          }
          const d = decide(body, tokens, tokens)
          assert.equal(d.scenario, 'explicit')
          assert.equal(d.target.toLowerCase(), model.toLowerCase())
        },
      ),
    )
  })

  it('law: a request with none of the triggers always gets default, with its body unchanged', () => {
    const model = fc.oneof(
      fc.constantFrom('claude-sonnet-4', 'gpt-4o', 'haiku', 'claude'),
      fc.stringMatching(/^[a-z0-9-]{0,20}$/),
    )
      .filter((m) => !(m.includes('claude') && m.includes('haiku')))
    fc.assert(
      fc.property(
        model,
        fc.nat(60000),
        fc.option(fc.nat(200000), { nil: undefined }),
        fc.constantFrom(undefined, false, { type: 'disabled' }),
        (m, tokens, last, thinking) => {
          const tokenCount = last !== undefined && last > 60000 ? Math.min(tokens, 20000) : tokens
          const body: JsonObject = {
            model: m,
            system: [{ type: 'text', text: 'you are helpful' }],
            messages: [user([IMAGE]), user('text')],
            tools: [{ name: 't', input_schema: {} }],
            thinking,
          }
          const snapshot = structuredClone(body)
          const d = decide(body, tokenCount, last)
          assert.deepEqual(d, { scenario: 'default', target: 'ds,chat', body: snapshot })
        },
      ),
    )
  })
})

describe('subagent tag', () => {
  it('is found in system[2] (newer Claude Code), routed to, and stripped without mutating the input', () => {
    const system = [{ type: 'text', text: 'cc' }, { type: 'text', text: 'env' }, {
      type: 'text',
      text: `${TAG}You are a reviewer`,
      cache_control: { type: 'ephemeral' },
    }]
    const body = { ...base, system }
    const d = decide(body)
    assert.equal(d.scenario, 'subagent')
    assert.equal(d.target, 'or,vision')
    assert.deepEqual(d.body.system, [system[0], system[1], {
      type: 'text',
      text: 'You are a reviewer',
      cache_control: { type: 'ephemeral' },
    }])
    assert.equal(system[2]?.text, `${TAG}You are a reviewer`)
  })

  it('is found in a string system prompt and stripped, also when another scenario wins', () => {
    const d = decide({ ...base, system: `before ${TAG} after` }, 1e6)
    assert.equal(d.scenario, 'longContext')
    assert.equal(d.body.system, 'before  after')
  })

  it('with an invalid target inside is stripped and ignored', () => {
    const r = extractSubagent({ system: '<CCR-SUBAGENT-MODEL>nocomma</CCR-SUBAGENT-MODEL>x' })
    assert.deepEqual(r, { target: 'nocomma', body: { system: 'x' } })
    assert.equal(decide({ ...base, system: '<CCR-SUBAGENT-MODEL>nocomma</CCR-SUBAGENT-MODEL>x' }).scenario, 'default')
  })

  it('leaves the body identical when there is no tag', () => {
    const body = { ...base, system: [{ type: 'text', text: 'no tag' }] }
    assert.equal(extractSubagent(body).body, body)
  })
})

describe('helpers', () => {
  it('sessionIdOf takes the part after _session_ in metadata.user_id', () => {
    assert.equal(sessionIdOf({ metadata: { user_id: 'user_abc_account__session_1234-uuid' } }), '1234-uuid')
    assert.equal(sessionIdOf({ metadata: { user_id: 'user_abc' } }), undefined)
    assert.equal(sessionIdOf({ metadata: { user_id: 'x_session_' } }), undefined)
    assert.equal(sessionIdOf({}), undefined)
  })

  it("sessionIdOf reads Claude Code 2.x's JSON user_id, and refuses what is not a session id", () => {
    // The shape Claude Code 2.1 sends (its metadata builder: device_id, account_uuid, session_id).
    const userId = JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: '5f1c2d3e-aaaa-bbbb' })
    assert.equal(sessionIdOf({ metadata: { user_id: userId } }), '5f1c2d3e-aaaa-bbbb')
    assert.equal(sessionIdOf({ metadata: { user_id: '{"device_id":"d"}' } }), undefined)
    assert.equal(sessionIdOf({ metadata: { user_id: '{"session_id":7}' } }), undefined)
    assert.equal(sessionIdOf({ metadata: { user_id: '{not json' } }), undefined)
    assert.equal(sessionIdOf({ metadata: { user_id: '{"session_id":""}' } }), undefined)
    // Ids are kept in a table per session: a long one is nobody's session.
    assert.equal(sessionIdOf({ metadata: { user_id: JSON.stringify({ session_id: 'x'.repeat(129) }) } }), undefined)
    assert.equal(sessionIdOf({ metadata: { user_id: `u_session_${'x'.repeat(129)}` } }), undefined)
    // The Codex CLI's `session-id` header, within the same bounds.
    assert.equal(headerSessionId('codex-thread-1'), 'codex-thread-1')
    assert.equal(headerSessionId('x'.repeat(129)), undefined)
    assert.equal(headerSessionId(''), undefined)
    assert.equal(headerSessionId(null), undefined)
    assert.equal(
      sessionIdOf({ metadata: { user_id: JSON.stringify({ session_id: 'x'.repeat(128) }) } }),
      'x'.repeat(128),
    )
  })

  it('lastUserHasImage ignores an assistant last message', () => {
    assert.equal(lastUserHasImage({ messages: [user([IMAGE]), { role: 'assistant', content: [IMAGE] }] }), false)
    assert.equal(lastUserHasImage({ messages: [] }), false)
  })
})
