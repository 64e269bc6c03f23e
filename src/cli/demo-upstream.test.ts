import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInstance } from '../compose.ts'
import { demoConfig } from '../config/demo.ts'
import { createMockUpstream } from '../demo/upstream.ts'
import { createLogger } from '../log.ts'
import { demoMockOptions } from './demo-upstream.ts'

/** The Quick start's first request, and the shape of a coding agent's: system blocks, tools, a tool round trip. */
const QUICK_START = {
  model: 'claude-sonnet-4-5',
  max_tokens: 200,
  messages: [{ role: 'user', content: 'Write a haiku about a railway switchyard at dawn, please.' }],
}
const AGENT_TURN = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  system: [
    { type: 'text', text: 'You are a coding agent. Answer tersely; use the tools to read files before you edit them.' },
    { type: 'text', text: 'The working directory is a TypeScript project built with Bun.' },
  ],
  tools: [{
    name: 'read_file',
    description: 'Read a file of the working directory and return its text.',
    input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  }],
  messages: [
    { role: 'user', content: 'What does src/cli.ts export?' },
    {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: 'src/cli.ts' } }],
    },
    {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'export async function main(argv) { … }' }],
    },
  ],
}

describe('the demo upstream', () => {
  it("reports input tokens within the drift warning of Switchyard's estimate, on both of the demo's wire formats", async () => {
    const config = demoConfig('http://mock.test')
    const mock = createMockUpstream(demoMockOptions())
    const logs: string[] = []
    const instance = await createInstance(config, {
      dataDir: ':memory:',
      fetch: (req) => mock.fetch(req),
      log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    })
    try {
      // The default route is the OpenAI-format provider; a haiku model goes to the Anthropic-format one.
      const bodies = [QUICK_START, AGENT_TURN, { ...AGENT_TURN, model: 'claude-haiku-4-5' }]
      for (const body of bodies) {
        for (const stream of [false, true]) {
          const res = await instance.app.request('/v1/messages', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...body, stream }),
          })
          assert.equal(res.status, 200)
          await res.text()
        }
      }
      const formats = new Set(mock.attempts().map((a) => a.format))
      assert.deepEqual([...formats].sort(), ['anthropic', 'openai'])
      const drift = await (await instance.app.request('/v1/token-drift')).json() as {
        tiers: Record<string, { samples: number; maxAbsPct: number }>
      }
      const tiers = Object.values(drift.tiers)
      assert.equal(tiers.reduce((n, t) => n + t.samples, 0), bodies.length * 2, JSON.stringify(drift))
      for (const t of tiers) assert.ok(t.maxAbsPct < config.drift.warnPct, JSON.stringify(drift))
      assert.deepEqual(logs.filter((l) => l.includes('"token drift"')), [])
    } finally {
      await instance.close()
    }
  })
})
