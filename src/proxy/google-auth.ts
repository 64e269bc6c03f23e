/**
 * Service-account auth for `vertex-gemini` providers: a JWT signed with the key file's private
 * key (RS256) is exchanged at the key's `token_uri` for an access token, which is cached per
 * key file and refreshed a minute before it expires. Concurrent requests share one exchange.
 * The exchange itself is sent by proxy/upstream.ts; the key never appears in logs or errors.
 */
import type { ProxyError } from '../errors.ts'
import { err, ok, type Result } from '../lib/result.ts'

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token'
/** Tokens are replaced this long before Google says they expire. */
const REFRESH_EARLY_MS = 60_000

export interface ServiceAccountKey {
  readonly client_email: string
  readonly private_key: string
  readonly token_uri?: string
}

/** Sends the token request; answers the access token and its lifetime in seconds. */
export type TokenExchange = (
  tokenUri: string,
  assertion: string,
  target: string,
) => Promise<Result<{ token: string; expiresInS: number }, ProxyError>>

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const b64urlJson = (v: unknown): string => b64url(new TextEncoder().encode(JSON.stringify(v)))

function pemBody(pem: string): Uint8Array {
  const text = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '')
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

/** The signed JWT a service account presents to the token endpoint. */
export async function serviceAccountJwt(
  key: ServiceAccountKey,
  nowMs: number,
  scope = CLOUD_PLATFORM_SCOPE,
): Promise<string> {
  const iat = Math.floor(nowMs / 1000)
  const head = b64urlJson({ alg: 'RS256', typ: 'JWT' })
  const claims = b64urlJson({
    iss: key.client_email,
    scope,
    aud: key.token_uri ?? DEFAULT_TOKEN_URI,
    iat,
    exp: iat + 3600,
  })
  const pkcs8 = pemBody(key.private_key)
  const signKey = await crypto.subtle.importKey(
    'pkcs8',
    pkcs8.buffer as ArrayBuffer,
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const sig = new Uint8Array(
    await crypto.subtle.sign('RSASSA-PKCS1-v1_5', signKey, new TextEncoder().encode(`${head}.${claims}`)),
  )
  return `${head}.${claims}.${b64url(sig)}`
}

function parseKey(text: string): ServiceAccountKey | undefined {
  try {
    const k = JSON.parse(text) as Partial<ServiceAccountKey>
    return typeof k.client_email === 'string' && typeof k.private_key === 'string'
      ? {
        client_email: k.client_email,
        private_key: k.private_key,
        ...(typeof k.token_uri === 'string' ? { token_uri: k.token_uri } : {}),
      }
      : undefined
  } catch {
    return undefined
  }
}

export interface GoogleTokens {
  /** An access token for the service account in `keyFile`, fresh or cached. */
  bearer(keyFile: string, target: string): Promise<Result<string, ProxyError>>
}

export function googleTokens(
  opts: { exchange: TokenExchange; now: () => number; readKey: (path: string) => Promise<string> },
): GoogleTokens {
  const cache = new Map<string, { token: string; refreshAt: number }>()
  const inflight = new Map<string, Promise<Result<string, ProxyError>>>()
  const fail = (target: string, message: string): Result<string, ProxyError> =>
    err({ kind: 'upstream_status', target, status: 401, message: `vertex-gemini: ${message}` })

  async function fetchToken(keyFile: string, target: string): Promise<Result<string, ProxyError>> {
    let text: string
    try {
      text = await opts.readKey(keyFile)
    } catch {
      return fail(target, 'the service-account key file cannot be read')
    }
    const key = parseKey(text)
    if (!key) return fail(target, 'the service-account key file has no client_email and private_key')
    let assertion: string
    try {
      assertion = await serviceAccountJwt(key, opts.now())
    } catch {
      return fail(target, 'the service-account private_key is not a PKCS#8 RSA key')
    }
    const r = await opts.exchange(key.token_uri ?? DEFAULT_TOKEN_URI, assertion, target)
    if (!r.ok) return r
    cache.set(keyFile, {
      token: r.value.token,
      refreshAt: opts.now() + Math.max(0, r.value.expiresInS * 1000 - REFRESH_EARLY_MS),
    })
    return ok(r.value.token)
  }

  return {
    async bearer(keyFile, target) {
      const hit = cache.get(keyFile)
      if (hit && opts.now() < hit.refreshAt) return ok(hit.token)
      let p = inflight.get(keyFile)
      if (!p) {
        p = fetchToken(keyFile, target).finally(() => inflight.delete(keyFile))
        inflight.set(keyFile, p)
      }
      return p
    },
  }
}
