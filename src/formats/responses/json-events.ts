/** A finished Responses `response` object replayed as its complete event stream. */
import type { JsonObject, SseEvent } from '../types.ts'
import { arr, obj, str } from '../translate/json.ts'

export function responsesEvents(response: JsonObject): SseEvent[] {
  let seq = 0
  const out: SseEvent[] = []
  const ev = (type: string, payload: JsonObject) =>
    out.push({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...payload }) })
  const pending = { ...response, status: 'in_progress', output: [], usage: null }
  ev('response.created', { response: pending })
  ev('response.in_progress', { response: pending })
  arr(response.output).forEach((raw, output_index) => {
    const item = obj(raw)
    const item_id = str(item.id) ?? ''
    if (item.type === 'message') {
      ev('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } })
      arr(item.content).forEach((p, content_index) => {
        const part = obj(p)
        const isText = part.type === 'output_text'
        const key = isText ? 'text' : 'refusal'
        const text = str(part[key]) ?? ''
        ev('response.content_part.added', { item_id, output_index, content_index, part: { ...part, [key]: '' } })
        if (text) {
          ev(isText ? 'response.output_text.delta' : 'response.refusal.delta', {
            item_id,
            output_index,
            content_index,
            delta: text,
          })
        }
        ev(isText ? 'response.output_text.done' : 'response.refusal.done', {
          item_id,
          output_index,
          content_index,
          [key]: text,
        })
        ev('response.content_part.done', { item_id, output_index, content_index, part })
      })
    } else if (item.type === 'function_call') {
      ev('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } })
      const args = str(item.arguments) ?? ''
      if (args) ev('response.function_call_arguments.delta', { item_id, output_index, delta: args })
      ev('response.function_call_arguments.done', { item_id, output_index, arguments: args })
    } else if (item.type === 'reasoning') {
      ev('response.output_item.added', { output_index, item: { ...item, summary: [] } })
      arr(item.summary).forEach((p, summary_index) => {
        const text = str(obj(p).text) ?? ''
        ev('response.reasoning_summary_part.added', {
          item_id,
          output_index,
          summary_index,
          part: { type: 'summary_text', text: '' },
        })
        if (text) ev('response.reasoning_summary_text.delta', { item_id, output_index, summary_index, delta: text })
        ev('response.reasoning_summary_text.done', { item_id, output_index, summary_index, text })
        ev('response.reasoning_summary_part.done', { item_id, output_index, summary_index, part: obj(p) })
      })
    } else ev('response.output_item.added', { output_index, item })
    ev('response.output_item.done', { output_index, item })
  })
  const status = str(response.status)
  ev(status === 'incomplete' ? 'response.incomplete' : status === 'failed' ? 'response.failed' : 'response.completed', {
    response,
  })
  return out
}
