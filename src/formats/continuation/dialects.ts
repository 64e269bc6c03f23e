/**
 * The splice (splice.ts) for Responses and Gemini clients: what is leading text in their
 * events, how a repeat is trimmed from it, and how a continuation's events are rewritten so
 * the client sees one answer.
 *
 * - Responses: the continuation's `response.created` / `in_progress` are dropped; a message
 *   item left open by the cut absorbs the continuation's first message item (its
 *   `output_item.added` and `content_part.added` are dropped, its deltas take the open item's
 *   id and output index, its `*.done` events carry the whole text); a reasoning item left open
 *   is closed first; later items take the next output indices; every event takes the next
 *   `sequence_number`; the final `response.*` event keeps the first response id and lists
 *   every item the client has.
 * - Gemini: chunks stand alone; they keep the first answer's `responseId`.
 */
import type { JsonObject, SseEvent } from '../types.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'
import { geminiText, responsesType, type StreamRecord } from './record.ts'

/** One client format's side of the splice. */
export interface SpliceDialect {
  /** Events to send before any of the continuation's. */
  opening(): SseEvent[]
  /** Leading text an event adds ('' for framing before it), undefined when it ends the leading text. */
  leading(ev: SseEvent): string | undefined
  /** Removes up to `n` leading characters from a leading-text event (drops it when nothing is left). */
  trim(ev: SseEvent, n: number): { ev?: SseEvent; left: number }
  rewrite(ev: SseEvent): SseEvent[]
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed'])

export class ResponsesSplice implements SpliceDialect {
  readonly #id: string | undefined
  #seq: number
  #nextIndex: number
  /** The items the client has whole, in output order (the final `response.output`). */
  readonly #output: JsonObject[]
  readonly #ids = new Set<string>()
  /** Continuation output index → client output index; continuation item id → client item id. */
  readonly #indices = new Map<number, number>()
  readonly #itemIds = new Map<string, string>()
  /** Client output index → the text its message item has so far. */
  readonly #texts = new Map<number, string>()
  /** The client's message item the cut left open, until the continuation's first message fills it. */
  #openText: { index: number; item: JsonObject } | undefined
  /** The continuation's output index of its first message item (the leading text). */
  #leadIndex: number | undefined
  #opening: SseEvent[] = []
  /** The continuation's output index of the message item the open one absorbed. */
  #absorbedFrom: number | undefined

  constructor(rec: StreamRecord) {
    this.#id = rec.id
    this.#seq = rec.nextSeq
    this.#nextIndex = rec.nextIndex
    this.#output = [...rec.items]
    for (const it of rec.items) if (str(it.id)) this.#ids.add(it.id as string)
    const item = rec.openItem
    if (rec.open?.kind === 'text' && item) {
      this.#openText = { index: rec.open.index, item }
      this.#texts.set(rec.open.index, rec.openText())
      if (str(item.id)) this.#ids.add(item.id as string)
    } else if (rec.open?.kind === 'thinking' && item) {
      this.#opening = this.#closeReasoning(rec.open.index, item, rec.openReasoning())
    }
  }

  opening(): SseEvent[] {
    return this.#opening.splice(0)
  }

  #ev(type: string, payload: JsonObject): SseEvent {
    return { event: type, data: JSON.stringify({ type, sequence_number: this.#seq++, ...payload }) }
  }

  #closeReasoning(index: number, item: JsonObject, text: string): SseEvent[] {
    const base = { item_id: str(item.id) ?? '', output_index: index }
    const summary = text ? [{ type: 'summary_text', text }] : []
    const out = text
      ? [
        this.#ev('response.reasoning_summary_text.done', { ...base, summary_index: 0, text }),
        this.#ev('response.reasoning_summary_part.done', { ...base, summary_index: 0, part: summary[0] }),
      ]
      : []
    const done = { ...item, summary }
    this.#output.push(done)
    out.push(this.#ev('response.output_item.done', { output_index: index, item: done }))
    return out
  }

  /** The open message item closed as it is (the continuation brought something else first). */
  #closeText(): SseEvent[] {
    const open = this.#openText
    if (!open) return []
    this.#openText = undefined
    const text = this.#texts.get(open.index) ?? ''
    const base = { item_id: str(open.item.id) ?? '', output_index: open.index }
    const part = { type: 'output_text', text, annotations: [] }
    const item = { ...open.item, status: 'completed', content: [part] }
    this.#output.push(item)
    return [
      this.#ev('response.output_text.done', { ...base, content_index: 0, text, logprobs: [] }),
      this.#ev('response.content_part.done', { ...base, content_index: 0, part }),
      this.#ev('response.output_item.done', { output_index: open.index, item }),
    ]
  }

  leading(ev: SseEvent): string | undefined {
    const d = obj(tryParse(ev.data))
    const type = responsesType(ev, d)
    const index = num(d.output_index)
    if (type === 'response.created' || type === 'response.in_progress') return ''
    if (this.#leadIndex === undefined) {
      if (type === 'response.output_item.added') {
        const kind = str(obj(d.item).type)
        if (kind === 'message') {
          this.#leadIndex = index ?? 0
          return ''
        }
        return kind === 'reasoning' ? '' : undefined
      }
      return type?.startsWith('response.reasoning_summary') ||
          (type === 'response.output_item.done' && str(obj(d.item).type) === 'reasoning')
        ? ''
        : undefined
    }
    if (index !== this.#leadIndex) return undefined
    if (type === 'response.content_part.added') return ''
    return type === 'response.output_text.delta' ? str(d.delta) ?? '' : undefined
  }

  trim(ev: SseEvent, n: number): { ev?: SseEvent; left: number } {
    const d = tryParse(ev.data)
    if (!isObject(d) || responsesType(ev, d) !== 'response.output_text.delta') return { ev, left: n }
    const text = str(d.delta) ?? ''
    const rest = text.slice(n)
    const left = n - (text.length - rest.length)
    return rest === '' ? { left } : { ev: { ...ev, data: JSON.stringify({ ...d, delta: rest }) }, left }
  }

  rewrite(ev: SseEvent): SseEvent[] {
    const d = tryParse(ev.data)
    if (!isObject(d)) return [ev]
    const type = responsesType(ev, d)
    if (type === 'response.created' || type === 'response.in_progress') return []
    if (type !== undefined && TERMINAL.has(type)) {
      const response = {
        ...obj(d.response),
        ...(this.#id === undefined ? {} : { id: this.#id }),
        output: [...this.#output],
      }
      return [...this.#closeText(), this.#out(ev, { ...d, response })]
    }
    const from = num(d.output_index)
    if (from === undefined) return [this.#out(ev, d)]
    const out: SseEvent[] = []
    if (type === 'response.output_item.added') {
      const item = obj(d.item)
      if (str(item.type) === 'message' && this.#openText) {
        this.#indices.set(from, this.#openText.index)
        this.#absorbedFrom = from
        if (str(item.id)) this.#itemIds.set(item.id as string, str(this.#openText.item.id) ?? '')
        this.#openText = undefined
        return []
      }
      out.push(...this.#closeText())
      const to = this.#nextIndex++
      this.#indices.set(from, to)
      const id = str(item.id)
      if (id !== undefined) {
        const fresh = this.#ids.has(id) ? `${id}_${to}` : id
        this.#ids.add(fresh)
        this.#itemIds.set(id, fresh)
      }
      if (str(item.type) === 'message') this.#texts.set(to, '')
    }
    const to = this.#indices.get(from) ?? from
    const itemId = str(d.item_id)
    const payload: JsonObject = {
      ...d,
      output_index: to,
      ...(itemId === undefined ? {} : { item_id: this.#itemIds.get(itemId) ?? itemId }),
    }
    const text = this.#texts.get(to)
    if (isObject(d.item)) {
      payload.item = {
        ...d.item,
        ...(str(d.item.id) ? { id: this.#itemIds.get(d.item.id as string) ?? d.item.id } : {}),
      }
    }
    if (text !== undefined) {
      // The absorbed item's text is the client's: what it had before the cut and the continuation's (trimmed) deltas.
      if (type === 'response.content_part.added' && from === this.#absorbedFrom) return out
      if (type === 'response.output_text.delta') this.#texts.set(to, text + (str(d.delta) ?? ''))
      if (type === 'response.output_text.done') payload.text = text
      if (type === 'response.content_part.done') payload.part = { ...obj(d.part), text }
      if (type === 'response.output_item.done') {
        payload.item = {
          ...obj(payload.item),
          content: arr(obj(payload.item).content).map((p, i) => (i === 0 ? { ...obj(p), text } : p)),
        }
      }
    }
    if (type === 'response.output_item.done') this.#output.push(obj(payload.item))
    out.push(this.#out(ev, payload))
    return out
  }

  #out(ev: SseEvent, d: JsonObject): SseEvent {
    return { ...ev, data: JSON.stringify({ ...d, sequence_number: this.#seq++ }) }
  }
}

export class GeminiSplice implements SpliceDialect {
  readonly #id: string | undefined

  constructor(rec: StreamRecord) {
    this.#id = rec.id
  }

  opening(): SseEvent[] {
    return []
  }

  leading(ev: SseEvent): string | undefined {
    const d = obj(tryParse(ev.data))
    const cand = obj(arr(d.candidates)[0])
    if (
      d.error !== undefined || str(cand.finishReason) ||
      arr(obj(cand.content).parts).some((p) => isObject(obj(p).functionCall))
    ) return undefined
    return geminiText(d)
  }

  trim(ev: SseEvent, n: number): { ev?: SseEvent; left: number } {
    const d = tryParse(ev.data)
    if (!isObject(d)) return { ev, left: n }
    const cand = obj(arr(d.candidates)[0])
    let left = n
    const parts: unknown[] = []
    for (const raw of arr(obj(cand.content).parts)) {
      const p = obj(raw)
      const text = str(p.text)
      if (left === 0 || p.thought === true || text === undefined) {
        parts.push(raw)
        continue
      }
      const rest = text.slice(left)
      left -= text.length - rest.length
      if (rest !== '' || Object.keys(p).some((k) => k !== 'text')) parts.push({ ...p, text: rest })
    }
    if (parts.length === 0 && !isObject(d.usageMetadata)) return { left }
    return {
      ev: {
        ...ev,
        data: JSON.stringify({
          ...d,
          candidates: [{ ...cand, content: { ...obj(cand.content), parts } }, ...arr(d.candidates).slice(1)],
        }),
      },
      left,
    }
  }

  rewrite(ev: SseEvent): SseEvent[] {
    if (this.#id === undefined) return [ev]
    const d = tryParse(ev.data)
    if (!isObject(d) || d.error !== undefined || d.responseId === this.#id) return [ev]
    return [{ ...ev, data: JSON.stringify({ ...d, responseId: this.#id }) }]
  }
}
