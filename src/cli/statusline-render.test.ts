import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { compact, lastTurn, renderStatusLine } from './statusline-render.ts'

const transcript = [
  JSON.stringify({ type: 'user', message: { role: 'user', content: 'hi' } }),
  JSON.stringify({
    type: 'assistant',
    message: { model: 'deepseek-chat', usage: { input_tokens: 100, output_tokens: 5 } },
  }),
  'not json {',
  JSON.stringify({
    type: 'assistant',
    message: {
      model: 'deepseek-reasoner',
      usage: { input_tokens: 1200, cache_read_input_tokens: 800, output_tokens: 345 },
    },
  }),
  JSON.stringify({ type: 'user', message: { role: 'user', content: 'thanks "assistant" "usage"' } }),
].join('\n')

describe('statusline', () => {
  it('lastTurn finds the newest assistant turn with usage and skips lines that do not parse', () => {
    assert.deepEqual(lastTurn(transcript), {
      model: 'deepseek-reasoner',
      inputTokens: 1200,
      outputTokens: 345,
      cacheReadTokens: 800,
      cacheCreationTokens: 0,
    })
    assert.equal(lastTurn(''), undefined)
    assert.equal(lastTurn(transcript.split('\n').slice(0, 1).join('\n')), undefined)
  })

  it('default line: the model that served the turn, tokens, cost, directory and branch', () => {
    const turn = lastTurn(transcript)!
    assert.equal(
      renderStatusLine(
        { served: 'deepseek,deepseek-reasoner', turn, costUsd: 0.0123, workDirName: 'proj', gitBranch: 'main' },
        undefined,
        false,
      ),
      'deepseek,deepseek-reasoner │ 2.0k in · 345 out │ $0.0123 │ proj (main)',
    )
    assert.equal(renderStatusLine({ workDirName: 'proj' }, undefined, false), 'no turn yet │ 0 in · 0 out │ proj')
  })

  it('a CCR StatusLine config renders its modules (templates, icons, colors); script modules are not run', () => {
    const cfg = {
      enabled: true,
      currentStyle: 'default',
      default: {
        modules: [
          { type: 'model', icon: '🤖', text: '{{model}}', color: 'bright_blue' },
          { type: 'usage', text: '↑{{inputTokens}} ↓{{outputTokens}} {{unknownVar}}' },
          { type: 'script', text: 'x', scriptPath: '/tmp/evil.js' },
          { type: 'workDir', text: '{{workDirName}}@{{gitBranch}}' },
        ],
      },
    }
    const facts = {
      served: 'oai,gpt',
      turn: { model: 'gpt', inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheCreationTokens: 0 },
      workDirName: 'w',
      gitBranch: 'dev',
    }
    assert.equal(renderStatusLine(facts, cfg, false), '🤖 oai,gpt  ↑10 ↓2 {{unknownVar}}  w@dev')
    assert.equal(renderStatusLine(facts, cfg, true).startsWith('\x1b[94m🤖 oai,gpt\x1b[0m'), true)
    assert.equal(renderStatusLine(facts, { ...cfg, enabled: false }, false), 'oai,gpt │ 10 in · 2 out │ w (dev)')
  })

  it('compact numbers', () => {
    assert.deepEqual([0, 999, 1000, 1234, 12_345, 2_500_000].map(compact), ['0', '999', '1.0k', '1.2k', '12k', '2.5M'])
  })
})
