/**
 * Helpers for built-in `responseOut` steps: rewrite an upstream answer given as a Response,
 * either its JSON body or its SSE events one by one (streaming: nothing is buffered beyond
 * what a step holds back itself).
 */
import { createSseDecoder } from '../sse/decode.ts'
import { encodeSseAll } from '../sse/encode.ts'
import type { JsonObject, SseEvent } from '../types.ts'

/** Per-stream event rewriter: each upstream event becomes zero or more events; `end` may add some. */
export interface EventRewriter {
  event(ev: SseEvent): SseEvent[]
  end(): SseEvent[]
}

const isJson = (res: Response) => (res.headers.get('content-type') ?? '').includes('json')

/** The same answer with its JSON body or its SSE events rewritten. */
export async function rewriteResponse(
  res: Response,
  rw: { json(body: JsonObject): JsonObject; stream(): EventRewriter },
): Promise<Response> {
  if (isJson(res) || !res.body) {
    const text = await res.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return new Response(text, { status: res.status, headers: res.headers })
    }
    const out = body !== null && typeof body === 'object' && !Array.isArray(body) ? rw.json(body as JsonObject) : body
    return new Response(JSON.stringify(out), { status: res.status, headers: res.headers })
  }
  const r = rw.stream()
  const sse = createSseDecoder()
  const text = new TextDecoder()
  const bytes = new TextEncoder()
  const emit = (ctrl: TransformStreamDefaultController<Uint8Array>, evs: SseEvent[]) => {
    if (evs.length) ctrl.enqueue(bytes.encode(encodeSseAll(evs)))
  }
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        emit(ctrl, sse.push(text.decode(chunk, { stream: true })).flatMap((ev) => r.event(ev)))
      },
      flush(ctrl) {
        const rest = text.decode()
        emit(ctrl, [...(rest ? sse.push(rest) : []), ...sse.flush()].flatMap((ev) => r.event(ev)))
        emit(ctrl, r.end())
      },
    }),
  )
  return new Response(body, { status: res.status, headers: res.headers })
}

/** The event's JSON data, or undefined (`[DONE]`, pings). */
export function dataOf(ev: SseEvent): JsonObject | undefined {
  if (!ev.data.startsWith('{')) return undefined
  try {
    return JSON.parse(ev.data) as JsonObject
  } catch {
    return undefined
  }
}

export const withData = (
  ev: SseEvent,
  data: JsonObject,
): SseEvent => (ev.event === undefined
  ? { data: JSON.stringify(data) }
  : { event: ev.event, data: JSON.stringify(data) })
