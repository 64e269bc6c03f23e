/**
 * The opt-in exact-match response cache, as the pipeline uses it: on for every request with
 * `Cache.enabled`, or per request with `x-switchyard-cache: on` (`off` skips it). A hit is
 * answered in the client's format, as JSON or replayed as a valid SSE stream, without any
 * upstream call; a miss is stored once the answer is whole. Errors, broken or continued
 * streams are never stored. Keys include the caller's identity (cache/key.ts): a hit never
 * crosses API keys. Anthropic prompt caching (`cache_control`) is unrelated and untouched.
 */
import { bodyHash, cacheKey, identityOf } from '../cache/key.ts'
import type { CacheEntry, CacheLookup, CacheStats, CacheStore } from '../cache/store.ts'
import type { CacheConfig } from '../config/types.ts'
import type { CachedRequest, PipelineCache } from '../deps.ts'
import { createSseDecoder, jsonAsStream } from '../formats/index.ts'
import { streamFold } from '../formats/stream-to-json.ts'
import { costUsd, priceFor } from '../tokens/pricing.ts'
import type { JsonObject } from '../formats/types.ts'
import { SSE_HEADERS } from './respond.ts'
import { routeHeader } from './route-header.ts'
import type { ClientRequest, PlannedTarget, RequestTrace } from './types.ts'

export const CACHE_HEADER = 'x-switchyard-cache'

export const DEFAULT_CACHE: CacheConfig = {
  enabled: false,
  ttlSeconds: 300,
  maxEntries: 1000,
  maxBytes: 64 * 1024 * 1024,
}

export class ResponseCache implements PipelineCache {
  readonly #config: CacheConfig
  readonly #store: CacheStore
  readonly #now: () => number
  readonly #count?: (result: 'hit' | 'miss') => void
  #hits = 0
  #misses = 0
  #stored = 0
  #inputSaved = 0
  #outputSaved = 0
  #costSaved = 0

  constructor(
    opts: { config?: CacheConfig; store: CacheStore; now: () => number; count?: (result: 'hit' | 'miss') => void },
  ) {
    this.#config = opts.config ?? DEFAULT_CACHE
    this.#store = opts.store
    this.#now = opts.now
    if (opts.count) this.#count = opts.count
  }

  /**
   * Whether the cache serves this request: the header decides, else `Cache.enabled`. Every
   * client format's stream can be folded and replayed (stream-to-json.ts, json-to-stream.ts).
   */
  applies(req: Pick<ClientRequest, 'headers'>): boolean {
    const h = req.headers.get(CACHE_HEADER)?.trim().toLowerCase()
    if (h === 'on' || h === '1' || h === 'true') return true
    if (h === 'off' || h === '0' || h === 'false') return false
    return this.#config.enabled
  }

  /** Looks the request up for each target of the plan, in plan order. */
  async find(ctx: CachedRequest, plan: readonly PlannedTarget[]): Promise<CacheLookup> {
    const { req, body } = ctx
    const identity = identityOf(req.headers, req.apiKeyName)
    const hash = bodyHash(body)
    const keyFor = (target: string) => cacheKey({ format: req.format, identity, target, bodyHash: hash })
    const now = this.#now()
    for (const t of plan) {
      const entry = await this.#store.get(keyFor(t.key), now)
      if (entry && entry.format === req.format) return { entry, keyFor }
    }
    return { keyFor }
  }

  /** The cached answer in the client's format: JSON, or a replayed stream when it asked for one. */
  answer(ctx: CachedRequest, entry: CacheEntry): Response {
    const { req, trace } = ctx
    this.#hits++
    this.#count?.('hit')
    this.#inputSaved += entry.usage
      ? entry.usage.inputTokens + entry.usage.cacheReadTokens + entry.usage.cacheCreationTokens
      : 0
    this.#outputSaved += entry.usage?.outputTokens ?? 0
    this.#costSaved += entry.costUsd ?? 0
    Object.assign(trace, { target: entry.target, tier: 'cache', status: 200, cache: 'hit' })
    const headers = { 'x-request-id': req.id, 'x-switchyard-route': routeHeader(trace), [CACHE_HEADER]: 'hit' }
    if (!req.stream) {
      return new Response(JSON.stringify(entry.body), {
        status: 200,
        headers: { ...headers, 'content-type': 'application/json' },
      })
    }
    const includeUsage = (req.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
    return new Response(jsonAsStream(req.format, entry.body, { includeUsage }), {
      status: 200,
      headers: { ...headers, ...SSE_HEADERS },
    })
  }

  /** Counts a miss (before the upstream is tried, so the request log shows it). */
  missed(trace: RequestTrace): void {
    this.#misses++
    this.#count?.('miss')
    trace.cache = 'miss'
  }

  /**
   * The committed response, passed on unchanged, with its answer stored once it is whole: a
   * JSON body as it is, a stream folded into the JSON it carried. Nothing is stored when the
   * request failed, the stream broke or was continued after a break.
   */
  capture(ctx: CachedRequest, committed: { target: PlannedTarget; res: Response; lookup: CacheLookup }): Response {
    const { req, trace } = ctx
    const { target: t, res, lookup } = committed
    res.headers.set(CACHE_HEADER, 'miss')
    if (res.status !== 200 || !res.body) return res
    const key = lookup.keyFor(t.key)
    const store = (body: JsonObject | undefined) => {
      if (!body || trace.failure !== undefined || trace.continued) return
      const cost = trace.usage ? costUsd(trace.usage, priceFor(t.provider, t.model)) : undefined
      const entry: CacheEntry = {
        format: req.format,
        body,
        target: t.key,
        storedAt: this.#now(),
        ...(trace.usage ? { usage: trace.usage } : {}),
        ...(cost === undefined ? {} : { costUsd: cost }),
      }
      this.#stored++
      void this.#store.set(key, entry, this.#config.ttlSeconds * 1000, this.#now()).catch(() => undefined)
    }
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      void res.clone().json().then(
        (b: unknown) => store(typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as JsonObject) : undefined),
        () => undefined,
      )
      return res
    }
    const fold = streamFold(req.format)
    const decode = createSseDecoder()
    const text = new TextDecoder()
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        c.enqueue(chunk)
        for (const ev of decode.push(text.decode(chunk, { stream: true }))) fold.push(ev)
      },
      flush() {
        for (const ev of decode.push(text.decode())) fold.push(ev)
        for (const ev of decode.flush()) fold.push(ev)
        store(fold.result())
      },
    })
    return new Response(res.body.pipeThrough(tap), { status: res.status, headers: res.headers })
  }

  stats(): CacheStats {
    const lookups = this.#hits + this.#misses
    return {
      hits: this.#hits,
      misses: this.#misses,
      stored: this.#stored,
      hitRatio: lookups === 0 ? 0 : this.#hits / lookups,
      inputTokensSaved: this.#inputSaved,
      outputTokensSaved: this.#outputSaved,
      costSavedUsd: this.#costSaved,
    }
  }
}
