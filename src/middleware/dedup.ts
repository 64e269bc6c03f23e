/**
 * Request deduplication: identical concurrent non-streaming requests share one run of the
 * pipeline (so one upstream call). Opt-in per Router (`Router.dedup`) or per request
 * (`x-switchyard-dedup: 1`). The shared work runs on its own AbortSignal, which aborts only
 * when EVERY caller waiting on it has gone: one caller leaving never cancels the others.
 */
import { createHash } from 'node:crypto'
import type { Context, MiddlewareHandler, Next } from 'hono'
import { presentedKey } from './auth.ts'
import { isObject } from '../formats/translate/json.ts'

/** A complete answer, buffered so each caller gets its own copy. */
export interface SharedAnswer {
  readonly status: number
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Uint8Array
}

interface Flight {
  readonly answer: Promise<SharedAnswer>
  readonly controller: AbortController
  waiting: number
}

/** Runs identical requests once: this instance's `Dedup`, or the fleet's (src/fleet/dedup.ts). */
export interface DedupRunner {
  run(
    key: string,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<SharedAnswer>,
  ): Promise<{ answer: SharedAnswer; shared: boolean }>
}

/** In-flight work by key. An entry lives only while its work runs: nothing is cached after. */
export class Dedup implements DedupRunner {
  readonly #flights = new Map<string, Flight>()

  /** Number of keys with work in flight. */
  get inFlight(): number {
    return this.#flights.size
  }

  /**
   * Joins the work in flight for `key`, or starts `work` with a signal that aborts once every
   * caller's own `signal` has aborted. Resolves `shared: true` for callers that joined.
   */
  async run(
    key: string,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<SharedAnswer>,
  ): Promise<{ answer: SharedAnswer; shared: boolean }> {
    const existing = this.#flights.get(key)
    const flight = existing ?? this.#start(key, work)
    flight.waiting++
    const leave = () => {
      if (--flight.waiting === 0) flight.controller.abort(new Error('every caller of a deduplicated request went away'))
    }
    signal.addEventListener('abort', leave, { once: true })
    if (signal.aborted) leave()
    try {
      return { answer: await flight.answer, shared: existing !== undefined }
    } finally {
      signal.removeEventListener('abort', leave)
    }
  }

  #start(key: string, work: (signal: AbortSignal) => Promise<SharedAnswer>): Flight {
    const controller = new AbortController()
    const answer = Promise.resolve().then(() => work(controller.signal))
    const flight: Flight = { answer, controller, waiting: 0 }
    this.#flights.set(key, flight)
    const done = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key)
    }
    answer.then(done, done)
    return flight
  }
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort((
      [a],
      [b],
    ) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** Headers that change what the upstream answers, so they are part of the key. */
const KEYED_HEADERS = ['anthropic-version', 'anthropic-beta'] as const

/**
 * The dedup key: path (preset included), the client's key fingerprint (no sharing across API
 * keys), the headers that change the answer, and the canonical body. Hashed, so no secret or
 * prompt text is kept in the table.
 */
export function dedupKey(path: string, headers: Headers, body: unknown): string {
  const h = createHash('sha256')
  h.update(path).update('\0').update(presentedKey(headers) ?? '').update('\0')
  for (const name of KEYED_HEADERS) h.update(headers.get(name) ?? '').update('\0')
  return h.update(canonicalJson(body)).digest('hex')
}

/** Copies of a Response's parts, so each caller gets a fresh Response. */
async function buffer(res: Response): Promise<SharedAnswer> {
  return { status: res.status, headers: [...res.headers], body: new Uint8Array(await res.arrayBuffer()) }
}

/**
 * Middleware for the inference routes: opted-in, non-streaming requests with the same key
 * share one run of the rest of the chain. The leader's request is re-issued with the shared
 * signal, so its leaving does not abort the upstream call the others are waiting on.
 */
export function dedupRequests(options: { dedup: DedupRunner; enabled: boolean }): MiddlewareHandler {
  const { dedup, enabled } = options
  // Synchronous when it does not apply (the usual case): it hands on `next()`'s promise, no async frame of its own.
  return function dedupRequests(c, next) {
    if (c.req.method !== 'POST' || !(enabled || c.req.raw.headers.get('x-switchyard-dedup') === '1')) return next()
    return shareRun(dedup, c, next)
  }
}

/** The opted-in request: joins or starts the shared run of the rest of the chain. */
async function shareRun(dedup: DedupRunner, c: Context, next: Next): Promise<void> {
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    return next() // the validator answers malformed JSON in the client's format
  }
  // Gemini says "stream" in the path (`:streamGenerateContent`), not the body.
  if (!isObject(body) || body.stream === true || c.req.path.endsWith(':streamGenerateContent')) return next()
  // A Gemini client's `?key=` is its key: no sharing across keys there either.
  const queryKey = presentedKey(new Headers(), c.req.url)
  const key = dedupKey(
    queryKey === undefined ? c.req.path : `${c.req.path}\0${createHash('sha256').update(queryKey).digest('hex')}`,
    c.req.raw.headers,
    body,
  )
  const raw = c.req.raw
  const { answer, shared } = await dedup.run(key, raw.signal, async (signal) => {
    // The body was read above (Hono caches it for the validator), so only the rest is copied.
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, signal })
    await next()
    return buffer(c.res)
  })
  const headers = new Headers(answer.headers as [string, string][])
  if (shared) headers.set('x-switchyard-dedup', 'shared')
  c.res = undefined
  c.res = new Response(answer.body.slice(), { status: answer.status, headers })
}
