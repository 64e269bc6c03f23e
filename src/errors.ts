/**
 * Errors as values. Everything that can fail for reasons outside our code becomes a ProxyError;
 * `throw` is for bugs. The status and error-type tables here are the only ones: each wire
 * format's renderer (formats/anthropic/errors.ts, formats/openai/errors.ts) reads them.
 */
export type TimeoutPhase = 'connect' | 'first_token' | 'idle' | 'total'

export type ProxyError =
  | {
    readonly kind: 'invalid_request'
    readonly message: string
    readonly param?: string
    /** A machine-readable reason where the API has one (OpenAI's `previous_response_not_found`). */
    readonly code?: string
  }
  | { readonly kind: 'unauthorized'; readonly message: string }
  | { readonly kind: 'forbidden'; readonly message: string }
  | { readonly kind: 'not_found'; readonly message: string }
  | { readonly kind: 'payload_too_large'; readonly message: string }
  | { readonly kind: 'no_upstream'; readonly message: string }
  | { readonly kind: 'overloaded'; readonly message: string }
  | { readonly kind: 'circuit_open'; readonly target: string; readonly retryInMs: number }
  | {
    readonly kind: 'rate_limited'
    readonly target?: string
    readonly retryAfterMs?: number
    readonly message?: string
  }
  | { readonly kind: 'timeout'; readonly target: string; readonly phase: TimeoutPhase }
  | {
    readonly kind: 'upstream_status'
    readonly target: string
    readonly status: number
    readonly message: string
    /** The upstream's own error type or code, when it sent one (e.g. `context_length_exceeded`). */
    readonly code?: string
    readonly retryAfterMs?: number
  }
  | { readonly kind: 'upstream_network'; readonly target: string; readonly message: string }
  | { readonly kind: 'stream_broken'; readonly target: string; readonly afterEvents: number; readonly message: string }
  | { readonly kind: 'client_closed' }
  | { readonly kind: 'internal'; readonly message: string }

export type ProxyErrorKind = ProxyError['kind']

/** The HTTP status a client sees for each error. Upstream statuses are kept as they are. */
export function httpStatusOf(e: ProxyError): number {
  switch (e.kind) {
    case 'invalid_request':
      return 400
    case 'unauthorized':
      return 401
    case 'forbidden':
      return 403
    case 'not_found':
      return 404
    case 'payload_too_large':
      return 413
    case 'rate_limited':
      return 429
    case 'client_closed':
      return 499
    case 'internal':
      return 500
    case 'upstream_network':
      return 502
    case 'stream_broken':
      return 502
    case 'no_upstream':
      return 503
    case 'circuit_open':
      return 503
    case 'timeout':
      return 504
    case 'overloaded':
      return 529
    case 'upstream_status':
      return e.status >= 400 && e.status <= 599 ? e.status : 502
  }
}

/** Anthropic `error.type` by HTTP status (docs/protocols.md §5.3); OpenAI clients get the same type string. */
export function anthropicErrorTypeOf(status: number): string {
  switch (status) {
    case 400:
    case 422:
      return 'invalid_request_error'
    case 401:
      return 'authentication_error'
    case 402:
      return 'billing_error'
    case 403:
      return 'permission_error'
    case 404:
      return 'not_found_error'
    case 413:
      return 'request_too_large'
    case 429:
      return 'rate_limit_error'
    case 503:
    case 529:
      return 'overloaded_error'
    case 408:
    case 504:
      return 'timeout_error'
    default:
      return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error'
  }
}

/** A one-line human message for an error, never containing secrets or upstream URLs. */
export function messageOf(e: ProxyError): string {
  switch (e.kind) {
    case 'circuit_open':
      return `Circuit breaker for ${e.target} is open: retry in ${Math.ceil(e.retryInMs)} ms`
    case 'rate_limited':
      return e.message ??
        `Rate limited${e.target ? ` by ${e.target}` : ''}${
          e.retryAfterMs !== undefined ? `: retry after ${Math.ceil(e.retryAfterMs)} ms` : ''
        }`
    case 'timeout':
      return `Upstream ${e.target} timed out (${e.phase.replace('_', ' ')})`
    case 'upstream_status':
      return e.code && !e.message.includes(e.code) ? `[${e.code}] ${e.message}` : e.message
    case 'upstream_network':
      return `Upstream ${e.target} network error: ${e.message}`
    case 'stream_broken':
      return `Upstream ${e.target} stream broke after ${e.afterEvents} events: ${e.message}`
    case 'client_closed':
      return 'Client closed the request'
    default:
      return e.message
  }
}

/** Whether an error may be served better by another target (an upstream 400 will not improve elsewhere). */
export function isFailoverable(e: ProxyError): boolean {
  switch (e.kind) {
    case 'invalid_request':
    case 'unauthorized':
    case 'forbidden':
    case 'payload_too_large':
    case 'client_closed':
      return false
    case 'upstream_status':
      // 400/413/422 are the request's fault; 401/402/403/404 are this provider's key or model and may work elsewhere.
      return ![400, 413, 422].includes(e.status) || e.code === 'context_length_exceeded'
    default:
      return true
  }
}
