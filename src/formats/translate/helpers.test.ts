import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { anthropicStopOf, openaiFinishOf } from './finish-reasons.ts'
import { fnv1a, noteToolName, restoreToolName, sanitizeToolId, shortToolName } from './ids.ts'
import { createThinkSplitter, splitThink } from './think-splitter.ts'
import type { ThinkSegment } from './think-splitter.ts'
import { parseToolArgs, repairToolArgsText } from './tool-args.ts'
import { openaiUsageBody, usageOfAnthropic, usageOfOpenAI } from './usage-map.ts'
import { contentPieceArb } from '../../../test/arbitraries/formats.ts'

const joinKind = (segs: readonly ThinkSegment[], k: ThinkSegment['kind']) =>
  segs.filter((s) => s.kind === k).map((s) => s.text).join('')

describe('finish reasons', () => {
  it('maps OpenAI finish reasons, tool calls winning over stop', () => {
    assert.equal(anthropicStopOf('stop', false), 'end_turn')
    assert.equal(anthropicStopOf('stop', true), 'tool_use')
    assert.equal(anthropicStopOf('length', true), 'max_tokens')
    assert.equal(anthropicStopOf('content_filter', false), 'refusal')
    assert.equal(anthropicStopOf(null, false), 'end_turn')
    assert.equal(anthropicStopOf('eos', false), 'end_turn')
  })
  it('maps Anthropic stop reasons', () => {
    assert.equal(openaiFinishOf('tool_use'), 'tool_calls')
    assert.equal(openaiFinishOf('model_context_window_exceeded'), 'length')
    assert.equal(openaiFinishOf('pause_turn'), 'stop')
    assert.equal(openaiFinishOf('refusal'), 'content_filter')
  })
})

describe('ids and tool names', () => {
  it('keeps valid ids and sanitizes others distinctly', () => {
    assert.equal(sanitizeToolId('toolu_01A'), 'toolu_01A')
    const a = sanitizeToolId('functions.Bash:0')
    assert.match(a, /^[a-zA-Z0-9_-]+$/)
    assert.notEqual(sanitizeToolId('call_x|fc_y'), sanitizeToolId('call_x.fc_y'))
  })
  it('law: sanitized ids always match the Anthropic pattern and are deterministic', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), (id) => {
      assert.match(sanitizeToolId(id), /^[a-zA-Z0-9_-]+$/)
      assert.equal(sanitizeToolId(id), sanitizeToolId(id))
    }))
  })
  it('shortens names over 64 chars and restores them', () => {
    const long = `mcp__server__${'x'.repeat(70)}`
    const map: Record<string, string> = {}
    const short = noteToolName(map, long)
    assert.equal(short.length, 64)
    assert.equal(short, shortToolName(long))
    assert.equal(restoreToolName(map, short), long)
    assert.equal(noteToolName(map, 'Bash'), 'Bash')
    assert.equal(fnv1a('a') === fnv1a('b'), false)
  })
})

describe('think splitter', () => {
  it('splits a leading think section and drops whitespace after it', () => {
    assert.deepEqual(splitThink('  <think>plan</think>\n\nanswer'), { thinking: 'plan', text: 'answer' })
    assert.deepEqual(splitThink('<think>\n  plan\n</think>\n\nanswer'), { thinking: 'plan\n', text: 'answer' })
  })
  it('accepts another tag pair', () => {
    assert.deepEqual(splitThink('<thinking>a</thinking>b', { tags: ['<thinking>', '</thinking>'] }), { thinking: 'a', text: 'b' })
    assert.deepEqual(splitThink('<think>a</think>b', { tags: ['<thinking>', '</thinking>'] }), { thinking: '', text: '<think>a</think>b' })
  })
  it('treats a later <think> as literal text', () => {
    assert.deepEqual(splitThink('code: <think>x</think>'), { thinking: '', text: 'code: <think>x</think>' })
  })
  it('handles a closing tag only (template inserted <think>) when the section starts open', () => {
    assert.deepEqual(splitThink('reasoning</think>answer', { startsOpen: true }), { thinking: 'reasoning', text: 'answer' })
    assert.deepEqual(splitThink('reasoning</think>answer'), { thinking: '', text: 'reasoning</think>answer' })
  })
  it('relabels an unclosed thinks-open text as the answer', () => {
    assert.deepEqual(splitThink('just an answer', { startsOpen: true }), { thinking: '', text: 'just an answer' })
  })
  it('holds back tags split across chunks', () => {
    const s = createThinkSplitter()
    const segs = [...s.push('<th'), ...s.push('ink>abc</th'), ...s.push('ink>'), ...s.push(' hi'), ...s.flush()]
    assert.deepEqual(segs, [{ kind: 'thinking', text: 'abc' }, { kind: 'text', text: 'hi' }])
  })
  it('law: any chunking of the content gives the same thinking and text as the whole string', () => {
    fc.assert(fc.property(fc.array(contentPieceArb, { maxLength: 12 }), (pieces) => {
      const whole = createThinkSplitter()
      const all = [...whole.push(pieces.join('')), ...whole.flush()]
      const chunked = createThinkSplitter()
      const parts = [...pieces.flatMap((p) => chunked.push(p)), ...chunked.flush()]
      assert.equal(joinKind(parts, 'thinking'), joinKind(all, 'thinking'))
      assert.equal(joinKind(parts, 'text'), joinKind(all, 'text'))
    }))
  })
})

describe('tool args', () => {
  it('parses, repairs, and falls back', () => {
    assert.deepEqual(parseToolArgs('{"city":"Paris"}'), { city: 'Paris' })
    assert.deepEqual(parseToolArgs('{"city":"Paris"'), { city: 'Paris' })
    assert.deepEqual(parseToolArgs(''), {})
    assert.deepEqual(parseToolArgs('[1]'), { value: [1] })
    assert.equal(repairToolArgsText('{"a":1'), '{"a":1}')
    assert.equal(repairToolArgsText(''), '{}')
    assert.equal(repairToolArgsText('{"a": 1}'), '{"a": 1}')
  })
})

describe('usage map', () => {
  it('subtracts cached tokens from OpenAI prompt tokens, reads DeepSeek hits', () => {
    assert.deepEqual(usageOfOpenAI({ prompt_tokens: 2242, completion_tokens: 96, prompt_tokens_details: { cached_tokens: 1830 } }),
      { inputTokens: 412, outputTokens: 96, cacheReadTokens: 1830, cacheCreationTokens: 0 })
    assert.equal(usageOfOpenAI({ prompt_tokens: 10, prompt_cache_hit_tokens: 4 })?.inputTokens, 6)
    assert.equal(usageOfOpenAI(null), undefined)
  })
  it('law: Anthropic → OpenAI → Anthropic usage round-trips', () => {
    fc.assert(fc.property(fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), (i, o, r, c) => {
      const u = { inputTokens: i, outputTokens: o, cacheReadTokens: r, cacheCreationTokens: c }
      assert.deepEqual(usageOfOpenAI(openaiUsageBody(u)), u)
      assert.deepEqual(usageOfAnthropic({ input_tokens: i, output_tokens: o, cache_read_input_tokens: r, cache_creation_input_tokens: c }), u)
    }))
  })
})
