import type { JsonObject, TranslateContext } from '../types.ts'
import { anthropicStopOf, openaiFinishOf } from './finish-reasons.ts'
import { mintId, restoreToolName, sanitizeToolId, syntheticSignature } from './ids.ts'
import { arr, num, obj, str } from './json.ts'
import { splitThink } from './think-splitter.ts'
import { parseToolArgs } from './tool-args.ts'
import { anthropicUsageBody, openaiUsageBody, usageOfAnthropic, usageOfOpenAI } from './usage-map.ts'

const ZERO = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }

/**
 * Anthropic Messages response (A-upstream) → OpenAI chat.completion (O-client), §4.3.
 * Thinking becomes `reasoning_content`; shortened tool names are restored.
 */
export function anthropicToOpenAIResponse(body: JsonObject, ctx: TranslateContext): JsonObject {
  const texts: string[] = []
  const thinking: string[] = []
  const calls: JsonObject[] = []
  const kept: JsonObject[] = []
  for (const raw of arr(body.content)) {
    const b = obj(raw)
    if (b.type === 'thinking' || b.type === 'redacted_thinking') kept.push(b)
    if (b.type === 'text') texts.push(str(b.text) ?? '')
    else if (b.type === 'thinking') thinking.push(str(b.thinking) ?? '')
    else if (b.type === 'tool_use') {
      const name = restoreToolName(ctx.toolNames, str(b.name) ?? '')
      calls.push({
        id: str(b.id) ?? '',
        type: 'function',
        function: { name, arguments: JSON.stringify(b.input ?? {}) },
      })
    }
  }
  const firstCall = str(calls[0]?.id)
  if (firstCall && kept.length > 0) ctx.onThinking?.(firstCall, kept)
  const message: JsonObject = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : calls.length > 0 ? null : '',
    refusal: null,
  }
  if (thinking.length > 0) message.reasoning_content = thinking.join('')
  if (calls.length > 0) message.tool_calls = calls
  const usage = usageOfAnthropic(body.usage) ?? ZERO
  const reasoning = num(obj(obj(body.usage).output_tokens_details).thinking_tokens) ?? 0
  return {
    id: mintId('chatcmpl-', str(body.id) ?? ctx.requestId),
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: openaiFinishOf(str(body.stop_reason)) }],
    usage: openaiUsageBody(usage, reasoning),
  }
}

function toolUseBlocks(calls: readonly unknown[], ctx: TranslateContext): JsonObject[] {
  return calls.map((raw, i) => {
    const c = obj(raw)
    const fn = obj(c.function)
    return {
      type: 'tool_use',
      id: sanitizeToolId(str(c.id) ?? `toolu_${i}`),
      name: restoreToolName(ctx.toolNames, str(fn.name) ?? ''),
      input: parseToolArgs(fn.arguments),
    }
  })
}

/**
 * OpenAI chat.completion (O-upstream) → Anthropic message (A-client), §4.3. Content order is
 * thinking (reasoning_content / reasoning / leading `<think>`), text, tool_use; only choices[0].
 */
export function openAIToAnthropicResponse(body: JsonObject, ctx: TranslateContext): JsonObject {
  const choice = obj(arr(body.choices)[0])
  const msg = obj(choice.message)
  const split = splitThink(str(msg.content) ?? '', {
    startsOpen: ctx.thinkingStartsOpen === true,
    ...(ctx.thinkTags ? { tags: ctx.thinkTags } : {}),
  })
  const reasoning = (str(msg.reasoning_content) || str(msg.reasoning) || '') + split.thinking
  const content: JsonObject[] = []
  if (reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: syntheticSignature(reasoning) })
  if (split.text) content.push({ type: 'text', text: split.text })
  const refusal = str(msg.refusal)
  if (refusal) content.push({ type: 'text', text: refusal })
  const tools = toolUseBlocks(arr(msg.tool_calls), ctx)
  content.push(...tools)
  const stop = refusal ? 'refusal' : anthropicStopOf(str(choice.finish_reason), tools.length > 0)
  return {
    id: mintId('msg_', ctx.requestId),
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: anthropicUsageBody(usageOfOpenAI(body.usage) ?? { ...ZERO, inputTokens: ctx.estimatedInputTokens }),
  }
}
