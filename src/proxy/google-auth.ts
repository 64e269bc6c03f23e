/**
 * Google auth for providers on Vertex AI, as Google's client libraries do it for the two kinds
 * of credentials a key file holds: a service account's JWT, signed with its private key (RS256),
 * or an `authorized_user`'s refresh token (what `gcloud auth application-default login` writes)
 * is exchanged at the `token_uri` for an access token. With no file, on Google Cloud, the
 * metadata server gives the machine's service account's token. Tokens are cached per
 * credentials source and refreshed a minute before they expire. Concurrent requests share one exchange. The
 * exchange itself is sent by proxy/upstream.ts; keys and tokens never appear in logs or errors.
 */
import type { ProxyError } from '../errors.ts'
import { err, ok, type Result } from '../lib/result.ts'
import { SharedFlights } from '../lib/flights.ts'

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token'
/** Tokens are replaced this long before Google says they expire. */
const REFRESH_EARLY_MS = 60_000

export interface ServiceAccountKey {
  readonly client_email: string
  readonly private_key: string
  readonly token_uri?: string
}

/** An `authorized_user` credentials file: an OAuth client and a user's refresh token. */
export interface AuthorizedUser {
  readonly client_id: string
  readonly client_secret: string
  readonly refresh_token: string
  readonly token_uri?: string
}

/** What a credentials file holds, with the project it names (`project_id`, or a user's `quota_project_id`). */
export type KeyFileCredentials =
  | { readonly type: 'service_account'; readonly key: ServiceAccountKey; readonly project?: string }
  | { readonly type: 'authorized_user'; readonly user: AuthorizedUser; readonly project?: string }

/** What a token is asked with: a key file's credentials, or the metadata server at `host`. */
type GoogleCredentials = KeyFileCredentials | { readonly type: 'metadata'; readonly host: string }

/**
 * Where a provider's credentials come from: a service account given inline, else the first of
 * `files` that can be read (config/vertex.ts orders them). `id` names the source in the cache.
 */
export interface CredentialSource {
  readonly id: string
  readonly inline?: ServiceAccountKey
  readonly files: readonly string[]
  /**
   * When no file can be read: the metadata server to ask, `known` when the environment says it
   * is there (else only on a machine whose product name says Compute Engine, as Google's clients check).
   */
  readonly metadata?: { readonly host: string; readonly known: boolean }
}

/** Asks a metadata server for the default service account's token and the project it runs in. */
export type MetadataToken = (
  host: string,
  target: string,
) => Promise<Result<{ token: string; expiresInS: number; project?: string }, ProxyError>>

/** Where Linux says what machine this is; a Compute Engine VM's reads "Google Compute Engine". */
export const PRODUCT_NAME_FILE = '/sys/class/dmi/id/product_name'

/** Sends the token request (an OAuth form); answers the access token and its lifetime in seconds. */
export type TokenExchange = (
  tokenUri: string,
  form: Readonly<Record<string, string>>,
  target: string,
) => Promise<Result<{ token: string; expiresInS: number }, ProxyError>>

/** An access token and the project the credentials name, if they name one. */
export interface GoogleAccess {
  readonly token: string
  readonly project?: string
}

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

const str = (v: unknown): v is string => typeof v === 'string' && v !== ''

/** The credentials in a key file's text, or why there are none (never quoting the text). */
export function parseCredentials(text: string): Result<KeyFileCredentials, string> {
  let k: Record<string, unknown>
  try {
    const v: unknown = JSON.parse(text)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return err('the credentials file is not a JSON object')
    k = v as Record<string, unknown>
  } catch {
    return err('the credentials file is not JSON')
  }
  const tokenUri = str(k.token_uri) ? { token_uri: k.token_uri } : {}
  if (str(k.client_email) && str(k.private_key) && (k.type === undefined || k.type === 'service_account')) {
    return ok({
      type: 'service_account',
      key: { client_email: k.client_email, private_key: k.private_key, ...tokenUri },
      ...(str(k.project_id) ? { project: k.project_id } : {}),
    })
  }
  if (k.type === 'authorized_user' && str(k.client_id) && str(k.client_secret) && str(k.refresh_token)) {
    return ok({
      type: 'authorized_user',
      user: { client_id: k.client_id, client_secret: k.client_secret, refresh_token: k.refresh_token, ...tokenUri },
      ...(str(k.quota_project_id) ? { project: k.quota_project_id } : {}),
    })
  }
  return err(
    typeof k.type === 'string' && k.type !== 'service_account' && k.type !== 'authorized_user'
      ? `credentials of type "${
        k.type.slice(0, 40)
      }" are not supported (a service account key or gcloud's application-default login are)`
      : "the credentials file has neither a service account's client_email and private_key nor a user's refresh_token",
  )
}

export interface GoogleTokens {
  /** An access token for `source`, fresh or cached, and the project its credentials name. */
  access(source: CredentialSource, target: string): Promise<Result<GoogleAccess, ProxyError>>
}

export function googleTokens(
  opts: {
    exchange: TokenExchange
    metadata: MetadataToken
    now: () => number
    readKey: (path: string) => Promise<string>
  },
): GoogleTokens {
  const cache = new Map<string, { access: GoogleAccess; refreshAt: number }>()
  const exchanges = new SharedFlights<string, Result<GoogleAccess, ProxyError>>()
  const fail = (target: string, message: string): Result<never, ProxyError> =>
    err({ kind: 'upstream_status', target, status: 401, message: `Vertex AI: ${message}` })

  async function credentialsOf(source: CredentialSource): Promise<Result<GoogleCredentials, string>> {
    if (source.inline) return ok({ type: 'service_account', key: source.inline })
    for (const file of source.files) {
      let text: string
      try {
        text = await opts.readKey(file)
      } catch {
        continue
      }
      return parseCredentials(text)
    }
    if (source.metadata && (source.metadata.known || await onComputeEngine())) {
      return ok({ type: 'metadata', host: source.metadata.host })
    }
    return err(
      'no Google credentials could be read: set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, ' +
        "run `gcloud auth application-default login`, or name a key file in the transformer's keyFile option",
    )
  }

  let gce: Promise<boolean> | undefined
  const onComputeEngine = (): Promise<boolean> =>
    gce ??= opts.readKey(PRODUCT_NAME_FILE).then((name) => /Google/.test(name), () => false)

  /** Caches a token until a minute before it expires. */
  function keep(source: CredentialSource, access: GoogleAccess, expiresInS: number): Result<GoogleAccess, never> {
    cache.set(source.id, { access, refreshAt: opts.now() + Math.max(0, expiresInS * 1000 - REFRESH_EARLY_MS) })
    return ok(access)
  }

  async function fetchToken(source: CredentialSource, target: string): Promise<Result<GoogleAccess, ProxyError>> {
    const creds = await credentialsOf(source)
    if (!creds.ok) return fail(target, creds.error)
    const c = creds.value
    if (c.type === 'metadata') {
      const m = await opts.metadata(c.host, target)
      if (!m.ok) return m
      return keep(
        source,
        { token: m.value.token, ...(m.value.project ? { project: m.value.project } : {}) },
        m.value.expiresInS,
      )
    }
    let form: Record<string, string>
    if (c.type === 'service_account') {
      try {
        form = {
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: await serviceAccountJwt(c.key, opts.now()),
        }
      } catch {
        return fail(target, "the service account's private_key is not a PKCS#8 RSA key")
      }
    } else {
      const { client_id, client_secret, refresh_token } = c.user
      form = { grant_type: 'refresh_token', client_id, client_secret, refresh_token }
    }
    const tokenUri = (c.type === 'service_account' ? c.key.token_uri : c.user.token_uri) ?? DEFAULT_TOKEN_URI
    const r = await opts.exchange(tokenUri, form, target)
    if (!r.ok) return r
    return keep(source, { token: r.value.token, ...(c.project ? { project: c.project } : {}) }, r.value.expiresInS)
  }

  return {
    async access(source, target) {
      const hit = cache.get(source.id)
      if (hit && opts.now() < hit.refreshAt) return ok(hit.access)
      return exchanges.run(source.id, () => fetchToken(source, target))
    },
  }
}
