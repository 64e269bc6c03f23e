import type { SseEvent, Usage, WireFormatName } from './types.ts'
import { arr, isObject, obj, str, tryParse } from './translate/json.ts'
import { usageOfResponses } from './responses/to-hub.ts'
import { usageOfGemini } from './gemini/stream.ts'
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
  switch (format) {
    case 'anthropic':
      return usageOfAnthropic(u)
    case 'openai':
      return usageOfOpenAI(u)
    case 'responses':
      return usageOfResponses(u)
    case 'gemini':
      return usageOfGemini(obj(body).usageMetadata)
  }
}

/**
 * Length of the value of `key` (`"text"`) without JSON.parse: a string's characters as escaped
 * (opening quote to the next unescaped quote), or an object's whole text (`"args": {…}`). JSON
 * may space the colon (`"content": "…"`, as Python's json.dumps writes it), so blanks around it
 * are skipped; an occurrence whose value is neither (`"content": null`) counts 0 and the next
 * one is tried. `from`: where to start looking (no occurrence is before it).
 */
function quotedLength(data: string, key: string, from = 0): number {
  for (;;) {
    const at = data.indexOf(key, from)
    if (at < 0) return 0
    let i = at + key.length
    while (isBlank(data.charCodeAt(i))) i++
    from = i
    if (data.charCodeAt(i) !== 58) continue
    i++
    while (isBlank(data.charCodeAt(i))) i++
    const c = data.charCodeAt(i)
    if (c === 34) return stringEnd(data, i + 1) - (i + 1)
    if (c === 123) return objectEnd(data, i) - i
    from = i
  }
}

/** The index of the closing quote of a JSON string whose text starts at `i`. */
function stringEnd(data: string, i: number): number {
  while (i < data.length && data.charCodeAt(i) !== 34) i += data.charCodeAt(i) === 92 ? 2 : 1
  return i
}

/** The index after the brace that closes the JSON object opening at `i` (strings skipped). */
function objectEnd(data: string, i: number): number {
  let depth = 0
  while (i < data.length) {
    const c = data.charCodeAt(i)
    if (c === 34) i = stringEnd(data, i + 1)
    else if (c === 123) depth++
    else if (c === 125 && --depth === 0) return i + 1
    i++
  }
  return i
}

/** `"usage":{` or `"usage": {` is in the text (one scan for both). */
function hasUsageObject(data: string): boolean {
  for (let at = data.indexOf('"usage":'); at >= 0; at = data.indexOf('"usage":', at + 8)) {
    const c = data.charCodeAt(at + 8)
    if (c === 123 || (c === 32 && data.charCodeAt(at + 9) === 123)) return true
  }
  return false
}

/** JSON's insignificant whitespace: space, tab, line feed, carriage return. */
const isBlank = (c: number) => c === 32 || c === 9 || c === 10 || c === 13

const FINISH = /"finish_reason":\s*"/
const A_CONTENT_KEYS = ['"text"', '"thinking"', '"partial_json"']
const R_CONTENT_KEYS = ['"delta"']
// Gemini's function calls carry their arguments as an object.
const G_CONTENT_KEYS = ['"text"', '"args"']
/** Responses events that end a stream (with usage) or fail it. */
const R_TERMINAL = new Set(['response.completed', 'response.incomplete'])
const R_FAILED = new Set(['response.failed', 'error'])

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
    else if (this.#format === 'responses') this.#responses(ev)
    else if (this.#format === 'gemini') this.#gemini(ev)
    else this.#openai(ev)
  }

  #content(data: string, keys: readonly string[]): void {
    let n = 0
    for (const k of keys) n += quotedLength(data, k)
    this.#count(n)
  }

  #count(n: number): void {
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
    else if (name === 'message_start') {
      this.usage = usageOfAnthropic(obj(obj(tryParse(ev.data)).message).usage) ?? this.usage
    } else if (name === 'message_delta') this.usage = mergeAnthropicUsage(this.usage, obj(obj(tryParse(ev.data)).usage))
  }

  // Responses events carry their type in `event:`; only the terminal one is parsed (it holds usage).
  #responses(ev: SseEvent): void {
    const name = ev.event ?? str(obj(tryParse(ev.data)).type) ?? ''
    if (name.endsWith('.delta')) return this.#content(ev.data, R_CONTENT_KEYS)
    if (R_FAILED.has(name)) return void (this.errored = true)
    if (!R_TERMINAL.has(name)) return
    this.terminal = this.finished = true
    this.usage = usageOfResponses(obj(obj(tryParse(ev.data)).response).usage) ?? this.usage
  }

  // Gemini streams have no terminator: the chunk with a finishReason ends them.
  #gemini(ev: SseEvent): void {
    const data = ev.data
    if (data.includes('"error"') && isObject(obj(tryParse(data)).error)) return void (this.errored = true)
    this.#content(data, G_CONTENT_KEYS)
    if (!data.includes('usageMetadata') && !data.includes('finishReason')) return
    const parsed = obj(tryParse(data))
    if (isObject(parsed.usageMetadata)) this.usage = usageOfGemini(parsed.usageMetadata) ?? this.usage
    if (str(obj(arr(parsed.candidates)[0]).finishReason)) this.terminal = this.finished = true
  }

  #openai(ev: SseEvent): void {
    const data = ev.data
    if (data === '[DONE]') return void (this.terminal = this.finished = true)
    if (ev.event === 'error') return void (this.errored = true)
    if (data.includes('"error"') && isObject(obj(tryParse(data)).error)) return void (this.errored = true)
    // `"content"`, `"reasoning_content"`, `"reasoning"`, `"arguments"`: the two reasoning keys
    // only when and after `"reasoning` is there at all (one scan of the chunk instead of two).
    const r = data.indexOf('"reasoning')
    this.#count(
      quotedLength(data, '"content"') + quotedLength(data, '"arguments"') +
        (r < 0 ? 0 : quotedLength(data, '"reasoning_content"', r) + quotedLength(data, '"reasoning"', r)),
    )
    // `"finish_reason":null` rides on every chunk; only a string value ends the answer.
    if (!this.finished && FINISH.test(data)) this.finished = true
    // Chunks carry `"usage":null` until the final one; parse only when a usage object may be present.
    if (!hasUsageObject(data)) return
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
