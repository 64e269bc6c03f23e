import type { SseEvent, Usage, WireFormatName } from './types.ts'
import { isObject, obj, tryParse } from './translate/json.ts'
import { mergeAnthropicUsage, usageOfAnthropic, usageOfOpenAI } from './translate/usage-map.ts'

/** Watches a pass-through stream (same format in and out) for usage and completion. */
export interface UsageTap {
  observe(ev: SseEvent): void
  readonly usage: Usage | undefined
  /** message_stop / `[DONE]` was seen. */
  readonly terminal: boolean
  /**
   * The answer's own end was seen: message_stop, or an OpenAI `finish_reason`. Several
   * OpenAI-compatible servers never send `[DONE]`, so a body that ends after this is complete.
   */
  readonly finished: boolean
  /** An in-stream error was seen. */
  readonly errored: boolean
  readonly events: number
  /** Events that carry model output (text, thinking, tool arguments). */
  readonly contentEvents: number
  /** Characters of model output seen so far, as escaped in the JSON (a cheap proxy for output tokens when usage is missing). */
  readonly outputChars: number
}

/**
 * Usage from a final JSON response body of the given format.
 * @example usageFromJson('openai', { usage: { prompt_tokens: 3, completion_tokens: 1 } })?.outputTokens // 1
 */
export function usageFromJson(format: WireFormatName, body: unknown): Usage | undefined {
  const u = obj(body).usage
  return format === 'anthropic' ? usageOfAnthropic(u) : usageOfOpenAI(u)
}

/** Length of the text between `"key":"` and the next unescaped quote: output size without JSON.parse. */
function quotedLength(data: string, key: string): number {
  const at = data.indexOf(key)
  if (at < 0) return 0
  const start = at + key.length
  let i = start
  while (i < data.length && data.charCodeAt(i) !== 34) i += data.charCodeAt(i) === 92 ? 2 : 1
  return i - start
}

const FINISH = /"finish_reason":\s*"/
const A_CONTENT_KEYS = ['"text":"', '"thinking":"', '"partial_json":"']
const O_CONTENT_KEYS = ['"content":"', '"reasoning_content":"', '"reasoning":"', '"arguments":"']

class Tap implements UsageTap {
  usage: Usage | undefined
  terminal = false
  finished = false
  errored = false
  events = 0
  contentEvents = 0
  outputChars = 0
  readonly #format: WireFormatName
  constructor(format: WireFormatName) {
    this.#format = format
  }

  observe(ev: SseEvent): void {
    this.events++
    if (this.#format === 'anthropic') this.#anthropic(ev)
    else this.#openai(ev)
  }

  #content(data: string, keys: readonly string[]): void {
    let n = 0
    for (const k of keys) n += quotedLength(data, k)
    if (n === 0) return
    this.contentEvents++
    this.outputChars += n
  }

  // Only message_start / message_delta carry usage, so only they are parsed.
  #anthropic(ev: SseEvent): void {
    const name = ev.event
    if (name === 'content_block_delta') return this.#content(ev.data, A_CONTENT_KEYS)
    if (name === 'message_stop') this.terminal = this.finished = true
    else if (name === 'error') this.errored = true
    else if (name === 'message_start') this.usage = usageOfAnthropic(obj(obj(tryParse(ev.data)).message).usage) ?? this.usage
    else if (name === 'message_delta') this.usage = mergeAnthropicUsage(this.usage, obj(obj(tryParse(ev.data)).usage))
  }

  #openai(ev: SseEvent): void {
    const data = ev.data
    if (data === '[DONE]') return void (this.terminal = this.finished = true)
    if (ev.event === 'error') return void (this.errored = true)
    if (data.includes('"error"') && isObject(obj(tryParse(data)).error)) return void (this.errored = true)
    this.#content(data, O_CONTENT_KEYS)
    // `"finish_reason":null` rides on every chunk; only a string value ends the answer.
    if (!this.finished && FINISH.test(data)) this.finished = true
    // Chunks carry `"usage":null` until the final one; parse only when a usage object may be present.
    if (!data.includes('"usage":{') && !data.includes('"usage": {')) return
    const parsed = tryParse(data)
    if (isObject(parsed) && isObject(parsed.usage)) this.usage = usageOfOpenAI(parsed.usage)
  }
}

/**
 * A usage tap for a stream in `format`: cheap per event (string checks first; JSON.parse only
 * for events that can carry usage).
 */
export function createUsageTap(format: WireFormatName): UsageTap {
  return new Tap(format)
}
