import type { JsonObject, SseEvent, TranslateContext } from '../types.ts'
import { ENDED_EARLY, StreamBase } from './stream-base.ts'
import { arr, isObject, num, obj, str, tryParse } from './json.ts'
import { repairToolArgsText } from './tool-args.ts'

/**
 * `enhancetool` for an OpenAI client on an OpenAI upstream (no translation): every tool call's
 * `arguments` in a chat.completion body made parseable. The input is not mutated.
 */
export function repairOpenAIJson(body: JsonObject): JsonObject {
  const choices = arr(body.choices).map((raw) => {
    const ch = obj(raw)
    const msg = obj(ch.message)
    if (!Array.isArray(msg.tool_calls)) return raw
    const tool_calls = msg.tool_calls.map((tc) => {
      const fn = obj(obj(tc).function)
      return { ...obj(tc), function: { ...fn, arguments: repairToolArgsText(str(fn.arguments) ?? '') } }
    })
    return { ...ch, message: { ...msg, tool_calls } }
  })
  return { ...body, choices }
}

/**
 * The streamed counterpart: chunks pass through unchanged except that argument fragments are
 * held back per call and sent repaired, one fragment per call, just before the finish chunk.
 */
export class OpenAIToolArgRepairStream extends StreamBase {
  readonly #ctx: TranslateContext
  readonly #args = new Map<number, string>()
  #sawFinish = false
  /** id / created / model copied from the upstream's chunks onto the ones we add. */
  #base: JsonObject | undefined

  constructor(ctx: TranslateContext) {
    super()
    this.#ctx = ctx
  }

  push(ev: SseEvent): SseEvent[] {
    if (this.done) return []
    const c = ev.data === '[DONE]' ? undefined : tryParse(ev.data)
    if (ev.data === '[DONE]') {
      this.emit(...this.#flush(), ev)
      this.finish()
    } else if (!isObject(c)) this.emit(ev)
    else if (ev.event === 'error' || (c.error !== undefined && c.error !== null)) this.failWith([ev]) // the upstream's error is already OpenAI-shaped
    else this.#chunk(ev, c)
    return this.drain()
  }

  end(): SseEvent[] {
    if (this.done) return []
    if (this.#sawFinish) {
      this.emit(...this.#flush(), { data: '[DONE]' })
      this.finish()
    } else this.fail('openai', ENDED_EARLY, this.#ctx.upstreamModel)
    return this.drain()
  }

  #chunk(ev: SseEvent, c: JsonObject): void {
    this.#base ??= { id: c.id, object: 'chat.completion.chunk', created: c.created, model: c.model }
    const choice = obj(arr(c.choices)[0])
    const calls = obj(choice.delta).tool_calls
    const out = Array.isArray(calls) ? this.#strip(c, choice, calls) : [ev]
    if (typeof choice.finish_reason === 'string') {
      this.#sawFinish = true
      this.emit(...this.#flush())
    }
    this.emit(...out)
  }

  /** Keep the arguments, forward the rest of the chunk (ids, names, empty first fragments). */
  #strip(c: JsonObject, choice: JsonObject, calls: readonly unknown[]): SseEvent[] {
    const kept = calls.map((raw, pos) => {
      const tc = obj(raw)
      const fn = obj(tc.function)
      const key = num(tc.index) ?? pos
      this.#args.set(key, (this.#args.get(key) ?? '') + (str(fn.arguments) ?? ''))
      return tc.id !== undefined || fn.name !== undefined ? { ...tc, function: { ...fn, arguments: '' } } : undefined
    }).filter(isObject)
    if (kept.length === 0 && Object.keys(obj(choice.delta)).length === 1 && typeof choice.finish_reason !== 'string') {
      return []
    }
    const { tool_calls: _all, ...rest } = obj(choice.delta)
    const delta = kept.length > 0 ? { ...rest, tool_calls: kept } : rest
    return [{ data: JSON.stringify({ ...c, choices: [{ ...choice, delta }] }) }]
  }

  #flush(): SseEvent[] {
    if (this.#args.size === 0) return []
    const tool_calls = [...this.#args].map(([index, args]) => ({
      index,
      function: { arguments: repairToolArgsText(args) },
    }))
    this.#args.clear()
    const chunk = { ...this.#base, choices: [{ index: 0, delta: { tool_calls }, finish_reason: null }] }
    return [{ data: JSON.stringify(chunk) }]
  }
}
