/**
 * The fetch used for upstream calls, with outbound proxy support. Which proxy a URL takes is
 * decided by pure functions here (testable without a network); the runtime-specific way of
 * sending through a proxy lives in runtime/proxy.ts.
 *
 * Sources, first found wins: the config's proxy (`HTTPS_PROXY`/`https_proxy`/`httpsProxy`/
 * `PROXY_URL` keys, as CCR reads them, for every scheme), then the environment: `HTTPS_PROXY`
 * for https:// targets, `HTTP_PROXY` for http:// ones (either case), then `ALL_PROXY`.
 * `NO_PROXY` (either case) lists hosts to reach directly; loopback hosts (localhost,
 * 127.0.0.0/8, ::1) are always direct, so local model servers keep working behind a proxy.
 */
import type { UpstreamFetch } from './deps.ts'
import { runtime } from './runtime/index.ts'
import { proxyFetch, type ProxyFetcher } from './runtime/proxy.ts'

export type ProxyEnv = Readonly<Record<string, string | undefined>>

export interface ProxySettings {
  readonly http?: string
  readonly https?: string
  /** Lower-cased NO_PROXY entries; `*` means every host. */
  readonly noProxy: readonly string[]
}

const first = (...vs: (string | undefined)[]): string | undefined =>
  vs.find((v) => v !== undefined && v.trim() !== '')?.trim()

/** The proxy settings for a config and an environment (no I/O). */
export function proxySettings(config: { readonly proxyUrl?: string }, env: ProxyEnv): ProxySettings {
  const all = first(env.ALL_PROXY, env.all_proxy)
  const noProxy = (first(env.NO_PROXY, env.no_proxy) ?? '').split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(
    Boolean,
  )
  const configured = first(config.proxyUrl)
  return {
    http: configured ?? first(env.HTTP_PROXY, env.http_proxy) ?? all,
    https: configured ?? first(env.HTTPS_PROXY, env.https_proxy) ?? all,
    noProxy,
  }
}

/** Whether `host` is this machine: such calls never go through a proxy. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** Whether one NO_PROXY entry covers `host:port` (`example.com` and `.example.com` match subdomains; `host:port` matches that port only). */
function covers(entry: string, host: string, port: string): boolean {
  if (entry === '*') return true
  const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\*?\./, '.'))
  const [name, entryPort] = [m?.[1] ?? entry, m?.[2]]
  if (entryPort !== undefined && entryPort !== port) return false
  const bare = name.replace(/^\./, '').replace(/^\[|\]$/g, '')
  return host === bare || host.endsWith(`.${bare}`)
}

/**
 * The proxy URL for a request URL, or undefined to connect directly.
 * @example proxyFor('https://api.x.com/v1', { https: 'http://p:3128', noProxy: [] }) // 'http://p:3128'
 * @example proxyFor('http://127.0.0.1:11434/v1', { http: 'http://p:3128', noProxy: [] }) // undefined
 */
export function proxyFor(url: string, s: ProxySettings): string | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return undefined
  }
  const proxy = u.protocol === 'https:' ? s.https : u.protocol === 'http:' ? s.http : undefined
  if (proxy === undefined) return undefined
  const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  if (isLoopback(host)) return undefined
  const port = u.port || (u.protocol === 'https:' ? '443' : '80')
  return s.noProxy.some((e) => covers(e, host, port)) ? undefined : proxy
}

/** An upstream fetch that also owns the proxy clients it opened. */
export type ClosableFetch = UpstreamFetch & { close(): void }

/**
 * The upstream fetch for a config and environment: direct calls go to `direct` (global fetch
 * by default), the rest through one pooled proxy client per proxy URL.
 */
export function createUpstreamFetch(
  config: { readonly proxyUrl?: string },
  env: ProxyEnv,
  opts: { direct?: UpstreamFetch; viaProxy?: (proxyUrl: string) => ProxyFetcher } = {},
): ClosableFetch {
  const settings = proxySettings(config, env)
  const direct = opts.direct ?? ((req: Request) => fetch(req))
  const make = opts.viaProxy ?? proxyFetch
  const clients = new Map<string, ProxyFetcher>()
  // No proxy configured (the usual case): no URL is parsed per call.
  const anyProxy = settings.http !== undefined || settings.https !== undefined
  const send = (req: Request): Promise<Response> => {
    const proxy = anyProxy ? proxyFor(req.url, settings) : undefined
    if (proxy === undefined) return direct(req).then(runtime.smallReads)
    let client = clients.get(proxy)
    if (!client) clients.set(proxy, client = make(proxy))
    return client.fetch(req).then(runtime.smallReads)
  }
  return Object.assign(send, {
    body: runtime.requestBody,
    close: () => {
      for (const c of clients.values()) c.close()
      clients.clear()
    },
  })
}
