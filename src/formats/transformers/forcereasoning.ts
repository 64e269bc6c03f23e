/**
 * CCR's `forcereasoning` built-in: reasoning by prompt for models without a reasoning mode.
 * The model is asked to reason inside `<reasoning_content>…</reasoning_content>` before its
 * answer; earlier turns' reasoning (the last ten) is replayed in those tags so it keeps its
 * thread; and the tagged part of the answer becomes `reasoning_content` (thinking for an
 * Anthropic client), in JSON and in streams. OpenAI-format upstreams only: Anthropic models
 * have thinking of their own, so there it changes nothing.
 */
import { createThinkSplitter, type ThinkSegment, type ThinkSplitter } from '../translate/think-splitter.ts'
import { arr, obj, str } from '../translate/json.ts'
import type { JsonObject } from '../types.ts'
import { dataOf, type EventRewriter, rewriteResponse, withData } from './rewrite-response.ts'

const OPEN = '<reasoning_content>'
const CLOSE = '</reasoning_content>'
const TAGS = [OPEN, CLOSE] as const
const REPLAYED_TURNS = 10

const INSTRUCTION = `Before you answer, think the problem through step by step inside ${OPEN}…${CLOSE}, ` +
  'then give your answer after the closing tag. The reasoning is shown to the user apart from the answer.'

/** The reasoning an assistant message carries, in any of the spellings upstreams and our translators use. */
const reasoningOf = (m: JsonObject) => str(m.reasoning_content) ?? str(m.reasoning) ?? str(obj(m.thinking).content)

export function forceReasoningRequest(
  body: JsonObject,
  _options: unknown,
  ctx: { readonly format?: string },
): JsonObject {
  if (ctx.format === 'anthropic') return body
  const messages = arr(body.messages).map(obj)
  const assistants = messages.map((m, i) => (m.role === 'assistant' ? i : -1)).filter((i) => i >= 0)
  const replay = new Set(assistants.slice(-REPLAYED_TURNS))
  const out = messages.map((m, i) => {
    const reasoning = replay.has(i) ? reasoningOf(m) : undefined
    if (!reasoning) return m
    const { reasoning_content: _r, reasoning: _s, thinking: _t, ...rest } = m
    return { ...rest, content: `${OPEN}${reasoning}${CLOSE}\n${str(m.content) ?? ''}` }
  })
  return { ...body, messages: [{ role: 'system', content: INSTRUCTION }, ...out] }
}

/** Text and reasoning of split segments. */
function join(segs: readonly ThinkSegment[]): { text: string; reasoning: string } {
  let text = ''
  let reasoning = ''
  for (const s of segs) {
    if (s.kind === 'thinking') reasoning += s.text
    else text += s.text
  }
  return { text, reasoning }
}

function json(body: JsonObject): JsonObject {
  const choices = arr(body.choices).map((c) => {
    const choice = obj(c)
    const msg = obj(choice.message)
    const content = str(msg.content)
    if (content === undefined) return c
    const s = createThinkSplitter({ tags: TAGS })
    const { text, reasoning } = join([...s.push(content), ...s.flush()])
    if (!reasoning) return c
    return {
      ...choice,
      message: { ...msg, content: text, reasoning_content: `${str(msg.reasoning_content) ?? ''}${reasoning}` },
    }
  })
  return { ...body, choices }
}

function stream(): EventRewriter {
  const splitters = new Map<number, ThinkSplitter>()
  const splitter = (i: number) => {
    let s = splitters.get(i)
    if (!s) {
      s = createThinkSplitter({ tags: TAGS })
      splitters.set(i, s)
    }
    return s
  }
  const deltaOf = (segs: readonly ThinkSegment[]): JsonObject => {
    const { text, reasoning } = join(segs)
    return { ...(reasoning ? { reasoning_content: reasoning } : {}), ...(text ? { content: text } : {}) }
  }
  return {
    event(ev) {
      const d = dataOf(ev)
      if (!d || !Array.isArray(d.choices)) return [ev]
      const choices = arr(d.choices).map((c) => {
        const choice = obj(c)
        const i = typeof choice.index === 'number' ? choice.index : 0
        const delta = obj(choice.delta)
        const content = str(delta.content)
        const done = choice.finish_reason !== undefined && choice.finish_reason !== null
        if (content === undefined && !done) return c
        const segs = [...(content ? splitter(i).push(content) : []), ...(done ? splitter(i).flush() : [])]
        const { content: _c, ...rest } = delta
        return { ...choice, delta: { ...rest, ...deltaOf(segs) } }
      })
      return [withData(ev, { ...d, choices })]
    },
    end: () => [],
  }
}

export function forceReasoningResponse(
  res: Response,
  _options: unknown,
  ctx: { readonly format?: string },
): Response | Promise<Response> {
  return ctx.format === 'anthropic' ? res : rewriteResponse(res, { json, stream })
}
