/**
 * The Responses API's WebSocket mode (`GET /v1/responses` upgraded): the Codex CLI tries it
 * first when its provider is OpenAI's, five times with back-off, before it falls back to HTTP.
 * Each `response.create` frame is answered as a `POST /v1/responses` with `stream: true` sent
 * to the server as the handshake's client (its key, its limits, the one pipeline, the config
 * it serves now), and each event of that stream goes back as one text frame: the same JSON as
 * the SSE event's data.
 *
 * Like OpenAI's, a connection remembers its latest answer: a `response.create` whose
 * `previous_response_id` names it sends only the new input items, and gets the whole
 * conversation in front of them here, `store: false` or not (Codex sends every turn after the
 * first so). A `previous_response_id` the connection does not hold goes to the route, which
 * finds it in the response store or refuses it.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Deps } from '../deps.ts'
import {
  createSseDecoder,
  emptyResponse,
  OpenAIErrorBodySchema,
  renderError,
  responseIdOf,
  responsesEvents,
} from '../formats/index.ts'
import type { JsonObject } from '../formats/types.ts'
import type { SocketPeer, SocketSession } from '../lib/web-socket.ts'
import type { ProxyError } from '../errors.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { errorResponse } from '../proxy/respond.ts'
import { conversationOf, inputItemsOf } from '../proxy/response-store.ts'
import { errorResponses } from './errors.ts'
import { jsonContent } from './openapi.ts'

export interface ResponsesSocketOptions {
  /** The `POST /v1/responses` request of a body (JSON text), as the handshake's client would have sent it. */
  request(body: string, signal: AbortSignal): Request
  /** A fresh response id, for a warm-up's answer (no request is made for it). */
  responseId(): string
  /** Seconds since the epoch. */
  now(): number
  /** Told once when the connection opens, and once when it closes (metrics). */
  opened?(): void
  closed?(): void
}

/** Frames that need no answer (Codex acknowledges each answer it has read). */
const ACKNOWLEDGEMENTS = new Set(['response.processed'])
/** The events that end an answer a follow-up can continue. */
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete'])
/** Response headers worth handing on with an error frame (Codex reads them for its retry policy). */
const ERROR_HEADERS = ['retry-after', 'x-should-retry', 'x-request-id'] as const

/** Frames a connection may have waiting (one being answered included) before more are refused. */
const MAX_WAITING = 8

const invalid = (message: string, param?: string): ProxyError => ({
  kind: 'invalid_request',
  message,
  ...(param === undefined ? {} : { param }),
})

/** The latest answer of a connection, as the conversation a follow-up continues. */
interface Latest {
  readonly id: string
  readonly conversation: readonly JsonObject[]
}

export class ResponsesSocket implements SocketSession {
  private peer: SocketPeer | undefined
  /** Frames are answered one at a time, in order (one response in flight per connection, as OpenAI's). */
  private turn: Promise<void> = Promise.resolve()
  private waiting = 0
  private latest: Latest | undefined
  private readonly abort = new AbortController()
  private draining = false

  constructor(private readonly opts: ResponsesSocketOptions) {}

  open(peer: SocketPeer): void {
    this.peer = peer
    this.opts.opened?.()
  }

  message(data: string | Uint8Array): void {
    // A frame waits for the ones before it; a client that floods them is told, not buffered for.
    if (this.waiting >= MAX_WAITING) {
      return this.refuse({
        kind: 'rate_limited',
        message: `${MAX_WAITING} frames are already waiting on this connection: send the next after response.completed`,
      })
    }
    this.waiting++
    this.turn = this.turn
      .then(() =>
        typeof data === 'string' ? this.answer(data) : this.refuse(invalid('frames are JSON text, not binary'))
      )
      .catch(() => this.refuse({ kind: 'internal', message: 'the answer broke off' }))
      .finally(() => {
        this.waiting--
        if (this.draining && this.waiting === 0) this.peer?.close(1001, 'server stopping')
      })
  }

  close(): void {
    if (this.abort.signal.aborted) return
    this.abort.abort()
    this.opts.closed?.()
  }

  drain(): void {
    this.draining = true
    if (this.waiting === 0) this.peer?.close(1001, 'server stopping')
  }

  private async answer(text: string): Promise<void> {
    if (this.abort.signal.aborted) return
    let frame: unknown
    try {
      frame = JSON.parse(text)
    } catch {
      return this.refuse(invalid('the frame is not JSON'))
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      return this.refuse(invalid('the frame is not a JSON object'))
    }
    // `generate` is the WebSocket mode's own field: no HTTP request takes it.
    const { type, generate, ...body } = frame as JsonObject
    if (typeof type === 'string' && ACKNOWLEDGEMENTS.has(type)) return
    if (type !== 'response.create') {
      return this.refuse(invalid(
        `type: ${JSON.stringify(type ?? null)} is not a frame Switchyard answers (send "response.create")`,
        'type',
      ))
    }
    const { request, input } = this.withLatest(body)
    if (generate === false) return this.warmUp(request, input)
    if (!this.peer) return
    const res = await this.peer.forward(this.opts.request(JSON.stringify(request), this.abort.signal))
    if (res.status !== 200 || !res.body || !(res.headers.get('content-type') ?? '').includes('event-stream')) {
      return this.relayError(res)
    }
    await this.relayEvents(res.body, input)
  }

  /**
   * The request to post: streamed, and with the conversation in front of its input when it
   * continues this connection's latest answer. `input` is its whole input when known here (to
   * remember with its answer), undefined when the route resolves the history.
   */
  private withLatest(body: JsonObject): { request: JsonObject; input: readonly JsonObject[] | undefined } {
    const { previous_response_id: prev, ...rest } = body
    const items = inputItemsOf(body.input)
    if (prev === undefined || prev === null) return { request: { ...body, stream: true }, input: items }
    if (this.latest !== undefined && prev === this.latest.id) {
      const input = [...this.latest.conversation, ...items]
      return { request: { ...rest, input, stream: true }, input }
    }
    return { request: { ...body, stream: true }, input: undefined }
  }

  /**
   * `generate: false`: Codex's warm-up, which sends the instructions, tools and first input
   * ahead of the turn and may continue from its answer. No upstream is asked: the answer is an
   * empty completed response the next frame can name as its `previous_response_id`.
   */
  private warmUp(request: JsonObject, input: readonly JsonObject[] | undefined): void {
    const response = emptyResponse(this.opts.responseId(), request.model, Math.floor(this.opts.now()))
    this.peer?.sendAll(responsesEvents(response).map((ev) => ev.data))
    this.latest = input === undefined ? undefined : { id: response.id as string, conversation: input }
  }

  private async relayEvents(body: ReadableStream<Uint8Array>, input: readonly JsonObject[] | undefined): Promise<void> {
    this.latest = undefined
    const reader = body.getReader()
    const stop = () => void reader.cancel().catch(() => undefined)
    this.abort.signal.addEventListener('abort', stop)
    const decoder = createSseDecoder()
    const text = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        const events = decoder.push(text.decode(value, { stream: true }))
        if (events.length === 0) continue
        this.peer?.sendAll(events.map((ev) => ev.data))
        for (const ev of events) {
          if (input !== undefined && FINAL_EVENTS.has(ev.event ?? '')) this.remember(ev.data, input)
        }
      }
    } finally {
      this.abort.signal.removeEventListener('abort', stop)
    }
  }

  private remember(data: string, input: readonly JsonObject[]): void {
    try {
      const response = (JSON.parse(data) as { response?: JsonObject }).response
      if (typeof response?.id !== 'string') return
      this.latest = { id: response.id, conversation: conversationOf({ input, response }) }
    } catch { /* an event the client judges: nothing to remember */ }
  }

  /** A refused request, as the error frame of OpenAI's WebSocket mode: `{type: "error", status, error}`. */
  private async relayError(res: Response): Promise<void> {
    let error: unknown
    try {
      error = (await res.json() as { error?: unknown }).error
    } catch { /* a body that is not ours: the status speaks */ }
    const headers: Record<string, string> = {}
    for (const name of ERROR_HEADERS) {
      const value = res.headers.get(name)
      if (value !== null) headers[name] = value
    }
    this.sendError(
      res.status,
      error ?? renderError('responses', { kind: 'internal', message: `HTTP ${res.status}` }).body.error,
      headers,
    )
  }

  private refuse(e: ProxyError): void {
    const { status, body } = renderError('responses', e)
    this.sendError(status, body.error)
  }

  /** The error frame of OpenAI's WebSocket mode. */
  private sendError(status: number, error: unknown, headers?: Record<string, string>): void {
    this.peer?.send(JSON.stringify({ type: 'error', status, error, ...(headers ? { headers } : {}) }))
  }
}

const socketRoute = createRoute({
  method: 'get',
  path: '/v1/responses',
  tags: ['Inference'],
  summary: "OpenAI Responses API's WebSocket mode (the Codex CLI's first choice)",
  description:
    'A WebSocket handshake (`Upgrade: websocket`), checked like any request. Then each `response.create` text frame (a Responses request body with `type`) is answered as a streamed `POST /v1/responses` sent with the handshake\'s headers, one text frame per event (the SSE event\'s data); a refused request is one `{type: "error", status, error}` frame. The connection keeps its latest answer: a `previous_response_id` naming it continues the conversation even with `store: false`. `response.processed` frames are acknowledgements and get no answer.',
  responses: {
    101: { description: 'Switched to the WebSocket protocol' },
    ...errorResponses(OpenAIErrorBodySchema),
    400: { description: 'Not a WebSocket handshake', content: jsonContent(OpenAIErrorBodySchema) },
    403: {
      description: 'A handshake from a web page (an Origin naming another host)',
      content: jsonContent(OpenAIErrorBodySchema),
    },
  },
})

/** Whether an Origin header names the host a request came to (the dashboard's own pages). */
function sameHost(origin: string, url: string): boolean {
  try {
    return new URL(origin).host === new URL(url).host
  } catch {
    return false
  }
}

/** Handshake headers not handed on to the requests its frames make. */
const HANDSHAKE_ONLY = /^(connection|upgrade|sec-websocket-.*|content-length|content-type)$/

/** `GET /v1/responses`: the WebSocket handshake, after the key check, upgraded to a `ResponsesSocket`. */
export function registerResponsesSocket(app: OpenAPIHono, deps: Deps): void {
  app.openapi(socketRoute, (c) => {
    const handshake = c.req.raw
    // Browsers send any page's WebSocket handshake to any host, cookies and all, with no CORS
    // check: only the page's Origin tells it apart. Agents and SDKs send none.
    const origin = handshake.headers.get('origin')
    if (origin !== null && !sameHost(origin, handshake.url)) {
      return errorResponse({ id: requestIdOf(c), format: 'responses' }, {
        kind: 'forbidden',
        message: `origin: a WebSocket handshake from a web page (${origin}) is refused; agents and SDKs send no Origin`,
      }) as never
    }
    const url = new URL('/v1/responses', handshake.url).href
    const headers = new Headers({ 'content-type': 'application/json' })
    handshake.headers.forEach((value, name) => {
      if (!HANDSHAKE_ONLY.test(name)) headers.set(name, value)
    })
    let warmUps = 0
    const session = new ResponsesSocket({
      request: (body, signal) => new Request(url, { method: 'POST', headers, body, signal }),
      // `_` never occurs in a request id's counter: no request's answer gets this id.
      responseId: () => responseIdOf(`${requestIdOf(c)}_w${++warmUps}`),
      now: () => deps.now() / 1000,
      opened: () => deps.telemetry.socketOpened?.(),
      closed: () => deps.telemetry.socketClosed?.(),
    })
    const upgraded = deps.upgradeWebSocket?.(handshake, session)
    if (upgraded) return upgraded as never
    return errorResponse({ id: requestIdOf(c), format: 'responses' }, {
      kind: 'invalid_request',
      message:
        "GET /v1/responses is the Responses API's WebSocket mode: open it with a WebSocket handshake (Upgrade: websocket), or POST /v1/responses",
    }) as never
  })
}
