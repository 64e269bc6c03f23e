/** `switchyard statusline` end to end: Claude Code's JSON on stdin, the transcript on disk, one line out. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../cli/run.ts'

describe('switchyard statusline', () => {
  it('names the provider,model that served the last turn, its tokens and its cost at the configured price', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-status-'))
    const work = join(dir, 'my-project')
    mkdirSync(join(work, '.git'), { recursive: true })
    writeFileSync(join(work, '.git', 'HEAD'), 'ref: refs/heads/feature/x\n')
    const config = join(dir, 'config.json')
    writeFileSync(
      config,
      JSON.stringify({
        Providers: [{
          name: 'deepseek',
          api_base_url: 'https://api.deepseek.com/chat/completions',
          api_key: 'k',
          models: ['deepseek-chat', 'deepseek-reasoner'],
          pricing: { 'deepseek-reasoner': { input_per_million: 1, output_per_million: 2 } },
        }],
        Router: { default: 'deepseek,deepseek-chat' },
      }),
    )
    const transcript = join(dir, 't.jsonl')
    writeFileSync(
      transcript,
      [
        JSON.stringify({
          type: 'assistant',
          message: { model: 'deepseek-chat', usage: { input_tokens: 10, output_tokens: 1 } },
        }),
        JSON.stringify({
          type: 'assistant',
          message: { model: 'deepseek-reasoner', usage: { input_tokens: 20_000, output_tokens: 5_000 } },
        }),
      ].join('\n') + '\n',
    )
    const input = JSON.stringify({
      model: { id: 'claude-sonnet-4', display_name: 'Sonnet' },
      workspace: { current_dir: work },
      transcript_path: transcript,
      cost: { total_cost_usd: 9.99 },
    })
    const r = await runCli(['statusline', '--config', config], { input, env: { NO_COLOR: '1' } })
    assert.equal(r.code, 0, r.stderr)
    // 20k in at $1/M + 5k out at $2/M = $0.03
    assert.equal(r.stdout.trim(), 'deepseek,deepseek-reasoner │ 20k in · 5.0k out │ $0.0300 │ my-project (feature/x)')
  })

  it('before the first turn (no transcript yet) it still prints a line', async () => {
    const r = await runCli(['statusline', '--config', join(tmpdir(), 'switchyard-no-such-config.json')], {
      input: JSON.stringify({ model: { display_name: 'Sonnet' }, cwd: '/tmp', transcript_path: '/nonexistent.jsonl' }),
    })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^Sonnet │ 0 in · 0 out/)
  })
})
