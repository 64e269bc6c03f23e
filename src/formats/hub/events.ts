/**
 * The hub model: one internal request / response / stream-event model that every wire format
 * translates into and out of. It is the Anthropic Messages shape (request body, message,
 * `message_start … message_stop` events), the richest of the four: typed content blocks,
 * tool ids, thinking with opaque signatures, images and documents, cache-aware usage.
 * Opaque tokens from other formats (Gemini thought signatures, Responses encrypted reasoning)
 * ride in thinking-block signatures wrapped by `foreignSignature`, so an Anthropic upstream
 * never sees them and the format they came from gets them back.
 */
import type { JsonObject, SseEvent } from '../types.ts'
import { SYNTHETIC_SIGNATURE_PREFIX } from '../translate/ids.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'

/** One hub stream event (Anthropic SSE framing: named, with `type` inside). */
export function hubEvent(type: string, payload: JsonObject): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...payload }) }
}

/** A signature that only `origin` understands, wrapped so Anthropic upstreams strip it (ids.ts). */
export function foreignSignature(origin: 'gemini' | 'responses', token: string): string {
  return `${SYNTHETIC_SIGNATURE_PREFIX}${origin}:${token}`
}

/** The token `foreignSignature(origin, token)` wrapped, or undefined when it came from elsewhere. */
export function unwrapSignature(origin: 'gemini' | 'responses', signature: unknown): string | undefined {
  const prefix = `${SYNTHETIC_SIGNATURE_PREFIX}${origin}:`
  const s = str(signature)
  return s !== undefined && s.startsWith(prefix) ? s.slice(prefix.length) : undefined
}

/** Text as base64 of its UTF-8 bytes (what `btoa` alone cannot do past Latin-1). */
export function utf8ToBase64(text: string): string {
  let bin = ''
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b)
  return btoa(bin)
}

/** The text `utf8ToBase64` encoded; throws on input that is not base64. */
export function base64ToUtf8(b64: string): string {
  const bin = atob(b64)
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))
}

const THINKING_ENVELOPE = `${SYNTHETIC_SIGNATURE_PREFIX}thinking:`

/**
 * A whole thinking block (text and signature) packed into one opaque token, for clients that
 * replay only signatures: the Gemini CLI keeps a call's `thoughtSignature` but drops thought
 * parts, and Anthropic needs the thinking text back byte for byte with its signature.
 */
export function thinkingEnvelope(thinking: string, signature: string): string {
  return THINKING_ENVELOPE + utf8ToBase64(JSON.stringify({ t: thinking, s: signature }))
}

/** The thinking block `thinkingEnvelope` packed, or undefined for any other token. */
export function openThinkingEnvelope(token: unknown): { thinking: string; signature: string } | undefined {
  const s = str(token)
  if (s === undefined || !s.startsWith(THINKING_ENVELOPE)) return undefined
  try {
    const v = obj(JSON.parse(base64ToUtf8(s.slice(THINKING_ENVELOPE.length))))
    return typeof v.t === 'string' && typeof v.s === 'string' ? { thinking: v.t, signature: v.s } : undefined
  } catch {
    return undefined
  }
}

/** Every hub content block of one message, whole (deltas applied), in index order. */
type Building = JsonObject & { _json?: string }

/**
 * A hub message assembled from hub stream events: what an Anthropic SDK's `finalMessage()`
 * would build. Throws on an in-stream error event, since there is no message then.
 */
export function assembleHubMessage(events: readonly SseEvent[]): JsonObject {
  let message: JsonObject = {}
  const blocks = new Map<number, Building>()
  let usage: JsonObject = {}
  for (const ev of events) {
    const d = obj(tryParse(ev.data))
    const type = str(d.type) ?? ev.event
    if (type === 'error') throw new Error(str(obj(d.error).message) ?? 'stream error')
    if (type === 'message_start') {
      message = { ...obj(d.message) }
      usage = { ...obj(message.usage) }
    } else if (type === 'content_block_start') blocks.set(num(d.index) ?? 0, { ...obj(d.content_block) })
    else if (type === 'content_block_delta') applyDelta(blocks.get(num(d.index) ?? 0), obj(d.delta))
    else if (type === 'message_delta') {
      const delta = obj(d.delta)
      if (delta.stop_reason !== undefined) message.stop_reason = delta.stop_reason
      if (delta.stop_sequence !== undefined) message.stop_sequence = delta.stop_sequence
      for (const [k, v] of Object.entries(obj(d.usage))) if (v !== null && v !== undefined) usage[k] = v
    }
  }
  const content = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => finishBlock(b))
  return { ...message, content, usage }
}

function applyDelta(b: Building | undefined, delta: JsonObject): void {
  if (!b) return
  if (delta.type === 'text_delta') b.text = (str(b.text) ?? '') + (str(delta.text) ?? '')
  else if (delta.type === 'thinking_delta') b.thinking = (str(b.thinking) ?? '') + (str(delta.thinking) ?? '')
  else if (delta.type === 'signature_delta') b.signature = (str(b.signature) ?? '') + (str(delta.signature) ?? '')
  else if (delta.type === 'input_json_delta') b._json = (b._json ?? '') + (str(delta.partial_json) ?? '')
}

function finishBlock(b: Building): JsonObject {
  const { _json, ...rest } = b
  if (rest.type !== 'tool_use' || _json === undefined) return rest
  const input = tryParse(_json)
  return { ...rest, input: isObject(input) ? input : {} }
}

/** The text of a hub `system` (string or text blocks). */
export function systemText(system: unknown): string {
  if (typeof system === 'string') return system
  return arr(system).map((b) => str(obj(b).text) ?? '').filter((t) => t).join('\n')
}
