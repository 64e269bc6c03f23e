/**
 * CCR's `tooluse` built-in, for models that answer in prose when they should call a tool: when
 * the request has tools, the model must call one (`tool_choice` required / any), is reminded
 * why, and gets an `ExitTool` to call when no tool fits; an `ExitTool` call in the answer
 * becomes the plain text it carries (JSON and streams, OpenAI and Anthropic formats).
 */
import { arr, isObject, obj, str } from '../translate/json.ts'
import type { JsonObject, SseEvent } from '../types.ts'
import { dataOf, type EventRewriter, rewriteResponse, withData } from './rewrite-response.ts'

export const EXIT_TOOL = 'ExitTool'

const REMINDER =
  'Tool mode is on: use the most suitable of the available tools for the task, after checking that it fits. ' +
  `When no tool fits, or the task is done, call ${EXIT_TOOL} with your answer: that is the only way to leave tool mode.`
const EXIT_DESCRIPTION =
  `Leave tool mode. Call this when no other tool fits the task, or when it is done; \`response\` is passed to the user exactly as written.`
const EXIT_SCHEMA = {
  type: 'object',
  properties: { response: { type: 'string', description: 'Your answer to the user, forwarded unchanged.' } },
  required: ['response'],
}

/** The `response` an ExitTool call carries (its arguments when they are not the expected JSON). */
function exitText(args: unknown): string {
  if (isObject(args)) return str(args.response) ?? JSON.stringify(args)
  if (typeof args !== 'string') return ''
  try {
    const v = JSON.parse(args) as unknown
    return isObject(v) && typeof v.response === 'string' ? v.response : args
  } catch {
    return args
  }
}

export function tooluseRequest(body: JsonObject, _options: unknown, ctx: { readonly format?: string }): JsonObject {
  const tools = arr(body.tools)
  if (tools.length === 0) return body
  if (ctx.format === 'anthropic') {
    const system = typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : arr(body.system)
    return {
      ...body,
      system: [...system, { type: 'text', text: REMINDER }],
      tool_choice: { type: 'any' },
      tools: [...tools, { name: EXIT_TOOL, description: EXIT_DESCRIPTION, input_schema: EXIT_SCHEMA }],
    }
  }
  return {
    ...body,
    messages: [...arr(body.messages), { role: 'system', content: REMINDER }],
    tool_choice: 'required',
    tools: [...tools, {
      type: 'function',
      function: { name: EXIT_TOOL, description: EXIT_DESCRIPTION, parameters: EXIT_SCHEMA },
    }],
  }
}

function openaiJson(body: JsonObject): JsonObject {
  const choices = arr(body.choices).map((c) => {
    const choice = obj(c)
    const msg = obj(choice.message)
    const calls = arr(msg.tool_calls)
    const exit = calls.find((t) => obj(obj(t).function).name === EXIT_TOOL)
    if (!exit) return c
    const rest = calls.filter((t) => t !== exit)
    const text = exitText(obj(obj(exit).function).arguments)
    const { tool_calls: _drop, ...message } = msg
    return {
      ...choice,
      message: {
        ...message,
        content: `${str(msg.content) ?? ''}${text}`,
        ...(rest.length ? { tool_calls: rest } : {}),
      },
      ...(rest.length ? {} : { finish_reason: 'stop' }),
    }
  })
  return { ...body, choices }
}

function anthropicJson(body: JsonObject): JsonObject {
  const content = arr(body.content)
  if (!content.some((b) => obj(b).type === 'tool_use' && obj(b).name === EXIT_TOOL)) return body
  const next = content.map((
    b,
  ) => (obj(b).type === 'tool_use' && obj(b).name === EXIT_TOOL ? { type: 'text', text: exitText(obj(b).input) } : b))
  const toolsLeft = next.some((b) => obj(b).type === 'tool_use')
  return { ...body, content: next, ...(toolsLeft ? {} : { stop_reason: 'end_turn' }) }
}

/** OpenAI stream: ExitTool deltas are held back and come out as content before the finish. */
function openaiStream(): EventRewriter {
  const exitIndex = new Map<number, number>() // choice → tool call index of ExitTool
  const args = new Map<number, string>()
  const others = new Set<number>() // choices that called a real tool too
  return {
    event(ev) {
      const d = dataOf(ev)
      if (!d) return [ev]
      let changed = false
      const out: SseEvent[] = []
      const choices = arr(d.choices).map((c) => {
        const choice = obj(c)
        const i = typeof choice.index === 'number' ? choice.index : 0
        const delta = obj(choice.delta)
        const calls = arr(delta.tool_calls)
        let next: JsonObject = choice
        if (calls.length) {
          const kept = calls.filter((t) => {
            const call = obj(t)
            const idx = typeof call.index === 'number' ? call.index : 0
            if (obj(call.function).name === EXIT_TOOL) exitIndex.set(i, idx)
            if (exitIndex.get(i) === idx) {
              args.set(i, (args.get(i) ?? '') + (str(obj(call.function).arguments) ?? ''))
              return false
            }
            others.add(i)
            return true
          })
          if (kept.length !== calls.length) {
            changed = true
            const { tool_calls: _drop, ...rest } = delta
            next = { ...choice, delta: kept.length ? { ...rest, tool_calls: kept } : rest }
          }
        }
        if (choice.finish_reason !== undefined && choice.finish_reason !== null && exitIndex.has(i)) {
          changed = true
          out.push(
            withData(ev, {
              ...d,
              choices: [{ index: i, delta: { content: exitText(args.get(i) ?? '') }, finish_reason: null }],
            }),
          )
          next = { ...next, finish_reason: others.has(i) ? next.finish_reason : 'stop' }
          exitIndex.delete(i)
        }
        return next
      })
      return changed ? [...out, withData(ev, { ...d, choices })] : [ev]
    },
    end: () => [],
  }
}

/** Anthropic stream: an ExitTool tool_use block is replaced, at the same index, by a text block. */
function anthropicStream(): EventRewriter {
  const held = new Map<number, string>() // block index → partial JSON so far
  let toolsLeft = false
  return {
    event(ev) {
      const d = dataOf(ev)
      if (!d) return [ev]
      const index = typeof d.index === 'number' ? d.index : -1
      if (d.type === 'content_block_start') {
        const block = obj(d.content_block)
        if (block.type === 'tool_use' && block.name === EXIT_TOOL) {
          held.set(index, '')
          return []
        }
        if (block.type === 'tool_use') toolsLeft = true
      }
      if (held.has(index) && d.type === 'content_block_delta') {
        held.set(index, held.get(index)! + (str(obj(d.delta).partial_json) ?? ''))
        return []
      }
      if (held.has(index) && d.type === 'content_block_stop') {
        const text = exitText(held.get(index) ?? '')
        held.delete(index)
        return [
          {
            event: 'content_block_start',
            data: JSON.stringify({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }),
          },
          {
            event: 'content_block_delta',
            data: JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }),
          },
          ev,
        ]
      }
      if (d.type === 'message_delta' && obj(d.delta).stop_reason === 'tool_use' && !toolsLeft) {
        return [withData(ev, { ...d, delta: { ...obj(d.delta), stop_reason: 'end_turn' } })]
      }
      return [ev]
    },
    end: () => [],
  }
}

export function tooluseResponse(
  res: Response,
  _options: unknown,
  ctx: { readonly format?: string },
): Promise<Response> {
  return ctx.format === 'anthropic'
    ? rewriteResponse(res, { json: anthropicJson, stream: anthropicStream })
    : rewriteResponse(res, { json: openaiJson, stream: openaiStream })
}
