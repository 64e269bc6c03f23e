import type { ProxyError } from '../errors.ts'
import { anthropicErrorTypeOf, httpStatusOf, messageOf } from '../errors.ts'
import type { JsonObject, SseEvent, WireFormatName } from './types.ts'
import { isObject, num, obj, str, tryParse } from './translate/json.ts'
import { type HeaderLookup, retryAfterFromHeaders } from './retry-after.ts'

/** Upstream codes that mean "out of credit": retrying will not help, so A-clients get 402. */
const QUOTA_CODES = new Set(['insufficient_quota', 'enforced_spend_limit_reached', 'billing_error'])
const MAX_MESSAGE = 1000

function statusFor(format: WireFormatName, e: ProxyError): number {
  const status = httpStatusOf(e)
  if (format === 'anthropic' && e.kind === 'upstream_status' && status === 429 && QUOTA_CODES.has(e.code ?? '')) {
    return 402
  }
  // 529 is Anthropic's own; other clients may not treat it as retryable.
  if (format !== 'anthropic' && status === 529) return 503
  return status
}

function errorObject(format: WireFormatName, e: ProxyError): { status: number; error: JsonObject } {
  const status = statusFor(format, e)
  const type = anthropicErrorTypeOf(httpStatusOf(e) === 429 && status === 402 ? 402 : httpStatusOf(e))
  if (format === 'anthropic') return { status, error: { type, message: messageOf(e) } }
  if (format === 'gemini') {
    return { status, error: { code: status, message: messageOf(e), status: googleStatusOf(status) } }
  }
  const param = e.kind === 'invalid_request' ? e.param ?? null : null
  const code = e.kind === 'upstream_status' || e.kind === 'invalid_request' ? e.code ?? null : null
  return { status, error: { message: messageOf(e), type, param, code } }
}

/**
 * An error as an HTTP response in the client's format (docs/protocols.md §5.3).
 * @example renderError('anthropic', { kind: 'overloaded', message: 'busy' }).status // 529
 */
export function renderError(
  format: WireFormatName,
  e: ProxyError,
  requestId?: string,
): { status: number; body: JsonObject } {
  const { status, error } = errorObject(format, e)
  if (format !== 'anthropic') return { status, body: { error } }
  const body: JsonObject = { type: 'error', error }
  if (requestId !== undefined) body.request_id = requestId
  return { status, body }
}

/**
 * An error written into a stream that already started: Anthropic `event: error`; OpenAI an
 * error chunk then `[DONE]`; Responses `response.failed`; Gemini an `{"error": …}` chunk.
 */
export function renderStreamError(format: WireFormatName, e: ProxyError, responseId = 'resp_failed'): SseEvent[] {
  const { error } = errorObject(format, e)
  if (format === 'anthropic') return [{ event: 'error', data: JSON.stringify({ type: 'error', error }) }]
  if (format === 'gemini') return [{ data: JSON.stringify({ error }) }]
  if (format === 'responses') {
    const response = {
      id: responseId,
      object: 'response',
      status: 'failed',
      error: { code: String(error.code ?? error.type), message: error.message },
      incomplete_details: null,
      output: [],
      usage: null,
    }
    return [{ event: 'response.failed', data: JSON.stringify({ type: 'response.failed', response }) }]
  }
  return [{ data: JSON.stringify({ error }) }, { data: '[DONE]' }]
}

const GOOGLE_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

/** Google's canonical error status name for an HTTP status (Gemini error bodies carry both). */
function googleStatusOf(status: number): string {
  return GOOGLE_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION')
}

/** Remove URLs and anything that looks like a credential from text we may show a client. */
export function redact(text: string): string {
  return text
    .replace(/https?:\/\/[^\s"'<>]+/g, '[url]')
    .replace(/\b(Bearer|Basic)\s+[^\s"',]+/gi, '$1 [redacted]')
    .replace(/\b(sk|pk|rk|ak|key)[-_][A-Za-z0-9_-]{8,}/gi, '[redacted]')
    .replace(/\b[A-Za-z0-9_-]{40,}\b/g, '[redacted]')
}

function plainText(text: string): string {
  return text.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(
    /\s+/g,
    ' ',
  ).trim()
}

/** Message and code from an error body of either format, or from `{message}` / `{detail}` / text. */
function describe(bodyText: string): { message: string; code?: string } {
  const parsed = tryParse(bodyText)
  if (isObject(parsed)) {
    const err = parsed.error
    const e = obj(err)
    const code = str(e.code) ?? (num(e.code) !== undefined ? String(e.code) : undefined) ??
      str(obj(e.details).error_code)
    const detail = parsed.detail
    const message = str(e.message) ?? str(err) ?? str(parsed.message) ?? str(detail) ??
      (detail !== undefined ? JSON.stringify(detail) : undefined)
    if (message !== undefined) {
      const known = code ?? overflowCode(message)
      return known === undefined ? { message } : { message, code: known }
    }
  }
  return { message: plainText(bodyText) }
}

/**
 * Anthropic reports a context overflow only in words ("prompt is too long: N tokens > M
 * maximum"); naming it like OpenAI's code lets routing send it to the long-context target.
 */
function overflowCode(message: string): string | undefined {
  return /prompt is too long|context (length|window) (exceeded|is too)|maximum context length/i.test(message)
    ? 'context_length_exceeded'
    : undefined
}

/**
 * A non-2xx upstream answer as a ProxyError. Parses either format's error body defensively,
 * keeps the upstream code, reads retry hints, and never echoes URLs or credentials.
 */
export interface UpstreamErrorAnswer {
  /** The upstream's wire format (both formats' error bodies are read either way). */
  readonly format: WireFormatName
  readonly status: number
  readonly body: string
  readonly target: string
  readonly headers: HeaderLookup
  /** Wall clock (epoch ms) for rate-limit reset timestamps. */
  readonly now?: number
}

export function parseUpstreamError(answer: UpstreamErrorAnswer): ProxyError {
  const { status, body: bodyText, target, headers, now } = answer
  const { message: raw, code } = describe(bodyText)
  const message = redact(raw).slice(0, MAX_MESSAGE) || `Upstream ${target} answered HTTP ${status}`
  const retryAfterMs = retryAfterFromHeaders(headers, now)
  if (status === 429 && !QUOTA_CODES.has(code ?? '')) {
    return retryAfterMs === undefined
      ? { kind: 'rate_limited', target, message }
      : { kind: 'rate_limited', target, message, retryAfterMs }
  }
  const e: {
    kind: 'upstream_status'
    target: string
    status: number
    message: string
    code?: string
    retryAfterMs?: number
  } = { kind: 'upstream_status', target, status, message }
  if (code !== undefined) e.code = code
  if (retryAfterMs !== undefined) e.retryAfterMs = retryAfterMs
  return e
}

const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  timeout_error: 504,
  overloaded_error: 529,
  server_error: 500,
  api_error: 500,
}

/** Google status names (Gemini error chunks) back to HTTP statuses. */
const STATUS_OF_GOOGLE: Readonly<Record<string, number>> = Object.fromEntries(
  [
    'INVALID_ARGUMENT',
    'UNAUTHENTICATED',
    'PERMISSION_DENIED',
    'NOT_FOUND',
    'RESOURCE_EXHAUSTED',
    'INTERNAL',
    'UNAVAILABLE',
    'DEADLINE_EXCEEDED',
  ]
    .map((name) => [name, Number(Object.entries(GOOGLE_STATUS).find(([, v]) => v === name)![0])]),
)

/** An in-stream upstream error payload (`{"error":{…}}` or `{"type":"error","error":{…}}`) as a ProxyError. */
export function streamErrorOf(payload: unknown, target: string): ProxyError {
  const e = obj(obj(payload).error)
  const type = str(e.type) ?? str(e.code) ?? ''
  const message = redact(str(e.message) ?? str(obj(payload).error) ?? 'Upstream stream error').slice(0, MAX_MESSAGE)
  const code = str(e.code)
  const numeric = num(e.code)
  const status = STATUS_OF_TYPE[type] ?? STATUS_OF_TYPE[str(e.code) ?? ''] ?? STATUS_OF_GOOGLE[str(e.status) ?? ''] ??
    (numeric !== undefined && numeric >= 400 && numeric <= 599 ? numeric : 500)
  return code === undefined
    ? { kind: 'upstream_status', target, status, message }
    : { kind: 'upstream_status', target, status, message, code }
}
