/**
 * The cache key: a SHA-256 over what the upstream would see (the routed body in canonical
 * form: keys sorted; `stream`, `stream_options` and `metadata` left out), the target, the
 * client's wire format, and the caller's identity, so a hit never crosses API keys.
 */
import { createHash } from 'node:crypto'
import type { JsonObject, WireFormatName } from '../formats/types.ts'

/** Top-level fields that do not change the answer: how it is delivered, and per-session ids. */
const IGNORED = new Set(['stream', 'stream_options', 'metadata'])

/** Plain objects rebuilt with their keys in sorted order (JSON.stringify keeps insertion order). */
const sortedKeys = (_k: string, v: unknown): unknown => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
  // No prototype, so a `__proto__` key in a body stays an ordinary key.
  const out = Object.create(null) as JsonObject
  for (const k of Object.keys(v).sort()) out[k] = (v as JsonObject)[k]
  return out
}

/**
 * JSON with object keys sorted at every depth, so equal requests hash equally. The native
 * stringify does the strings (message text is most of a body's bytes).
 */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, sortedKeys) ?? 'null'
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** The hash of a request body as the cache sees it (delivery fields dropped). */
export function bodyHash(body: JsonObject): string {
  const kept = Object.create(null) as JsonObject
  for (const [k, v] of Object.entries(body)) if (!IGNORED.has(k)) kept[k] = v
  return sha256(canonicalJson(kept))
}

/**
 * Who is asking: the named key's name, else a hash of the presented key (`Authorization:
 * Bearer …` first, then `x-api-key`, then Gemini's `x-goog-api-key`), else `-`. The key itself is never kept.
 */
export function identityOf(headers: Headers, apiKeyName: string | undefined): string {
  if (apiKeyName !== undefined) return `name:${apiKeyName}`
  const auth = headers.get('authorization')
  const key = auth ? auth.replace(/^Bearer\s+/i, '') : headers.get('x-api-key') ?? headers.get('x-goog-api-key')
  return key ? `key:${sha256(key)}` : '-'
}

export function cacheKey(p: { format: WireFormatName; identity: string; target: string; bodyHash: string }): string {
  return sha256(`${p.format}\u0000${p.identity}\u0000${p.target}\u0000${p.bodyHash}`)
}
