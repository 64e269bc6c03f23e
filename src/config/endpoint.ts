/**
 * `api_base_url` in both styles. CCR configs give the full endpoint
 * (`https://api.deepseek.com/chat/completions`); ccr-rust configs give a base
 * (`http://127.0.0.1:9999`, `https://openrouter.ai/api/v1`) and ccr-rust appends the path. A URL
 * whose path is empty or ends in a version segment (`/v1`, `/v1beta`, `/v4`) or `/openai` is a
 * base: the format's endpoint is appended. Anything else is used as written (a Gemini
 * `…/models/` base, a proxy's own path).
 */
import type { WireFormatName } from './types.ts'

const ENDPOINT: Readonly<Record<WireFormatName, { readonly versioned: string; readonly bare: string }>> = {
  anthropic: { versioned: '/messages', bare: '/v1/messages' },
  openai: { versioned: '/chat/completions', bare: '/chat/completions' },
  responses: { versioned: '/responses', bare: '/v1/responses' },
  // Gemini's model and action are appended per request (proxy/vertex.ts modelActionUrl).
  gemini: { versioned: '/models/', bare: '/v1beta/models/' },
}

const BASE_TAIL = /^(v\d+(?:alpha|beta)?\d*|openai)$/

/** The URL requests go to, and the path appended when `url` was a base (undefined: used as written). */
export function endpointUrl(url: string, format: WireFormatName): { readonly url: string; readonly appended?: string } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return { url }
  }
  const path = u.pathname.replace(/\/+$/, '')
  const last = path.slice(path.lastIndexOf('/') + 1)
  if (path !== '' && !BASE_TAIL.test(last)) return { url }
  const appended = path === '' || format === 'openai' || !/^v\d/.test(last)
    ? ENDPOINT[format].bare
    : ENDPOINT[format].versioned
  u.pathname = path + appended
  return { url: u.toString(), appended }
}
