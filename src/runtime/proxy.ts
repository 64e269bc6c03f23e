/**
 * Upstream fetch through an HTTP(S) proxy, the one capability Bun and Deno spell differently:
 * Bun takes `fetch(req, { proxy })`, Deno an HttpClient made by `Deno.createHttpClient({ proxy })`.
 * Both send absolute-form requests for http:// targets and CONNECT for https:// ones.
 */
type Fetcher = (req: Request) => Promise<Response>

interface DenoHttpClient {
  close(): void
}
interface DenoProxyApi {
  createHttpClient(o: { proxy: { url: string; basicAuth?: { username: string; password: string } } }): DenoHttpClient
}

/** A fetch through `proxyUrl`, and `close()` for the connection pool it holds (Deno). */
export interface ProxyFetcher {
  readonly fetch: Fetcher
  close(): void
}

/** Deno wants the credentials apart from the URL. */
function denoProxy(proxyUrl: string): { url: string; basicAuth?: { username: string; password: string } } {
  const u = new URL(proxyUrl)
  if (!u.username) return { url: proxyUrl }
  const basicAuth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
  u.username = ''
  u.password = ''
  return { url: u.toString(), basicAuth }
}

/** A fetch that sends every request through `proxyUrl` (`http://[user:pass@]host:port`). */
export function proxyFetch(proxyUrl: string): ProxyFetcher {
  if ('Bun' in globalThis) {
    const bunFetch = fetch as (req: Request, init: { proxy: string }) => Promise<Response>
    return { fetch: (req) => bunFetch(req, { proxy: proxyUrl }), close: () => undefined }
  }
  const deno = (globalThis as unknown as { Deno: DenoProxyApi }).Deno
  const client = deno.createHttpClient({ proxy: denoProxy(proxyUrl) })
  const denoFetch = fetch as (req: Request, init: { client: DenoHttpClient }) => Promise<Response>
  return { fetch: (req) => denoFetch(req, { client }), close: () => client.close() }
}
