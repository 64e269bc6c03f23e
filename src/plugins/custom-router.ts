/**
 * CCR's CUSTOM_ROUTER_PATH (docs/protocols.md §8.5): a module exporting
 * `async (req, config) => "provider,model" | null`, called before the built-in scenario rules.
 * The router is user code, so it is fenced: it sees a copy of the body, headers without
 * credentials and the redacted config; a throw, a 50 ms overrun or a target naming no
 * configured provider logs a warning and the built-in rules decide. A request never fails
 * because of its router.
 */
import { redactConfig, SECRET_KEY } from '../config/redact.ts'
import type { CustomRouter } from '../deps.ts'

export type { CustomRoute, CustomRouter, CustomRouterInput } from '../deps.ts'
import type { JsonObject, WireFormatName } from '../formats/types.ts'
import type { Logger } from '../log.ts'
import { resolveExplicit, targetKey } from '../routing/target.ts'
import type { ProviderNames } from '../routing/target.ts'
import { importDefault, messageOfThrown, type PathBase, resolvePluginPath } from './load.ts'
import { setOwn } from '../lib/own.ts'

/** CCR's budget for a custom router: routing must stay cheap next to the upstream call. */
export const CUSTOM_ROUTER_TIMEOUT_MS = 50

/** The `req` a custom router receives (CCR's fields, plus `format` and `preset`). */
export interface CustomRouterRequest {
  /** A deep copy of the client body: the router may mutate it, and a route it returns uses it. */
  body: JsonObject
  readonly tokenCount: number
  readonly sessionId?: string
  /** Client headers, lower-cased, without credentials (authorization, x-api-key, cookies…). */
  readonly headers: Readonly<Record<string, string>>
  readonly format: WireFormatName
  readonly preset?: string
  readonly log: { warn(msg: string): void; info(msg: string): void }
}

export type CustomRouterFn = (req: CustomRouterRequest, config: unknown) => unknown

/** Client headers a router may see: every one whose name does not look like a credential. */
export function routerHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of h) if (!SECRET_KEY.test(k) && k !== 'cookie') setOwn(out, k, v)
  return out
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

/** Runs `p` against a deadline; resolves `timedOut` instead of waiting longer. */
async function within<T>(p: Promise<T>, ms: number): Promise<{ value: T } | { timedOut: true }> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<{ timedOut: true }>((resolve) => { timer = setTimeout(() => resolve({ timedOut: true }), ms) })
  try {
    return await Promise.race([p.then((value) => ({ value })), late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Wraps a router function with the fences described in the file comment.
 * `rawConfig` is redacted and frozen once: the router never sees a secret and cannot change it.
 */
export function fenceRouter(fn: CustomRouterFn, opts: { rawConfig: unknown; providers: ProviderNames; log: Logger; timeoutMs?: number }): CustomRouter {
  const config = deepFreeze(redactConfig(opts.rawConfig))
  const timeoutMs = opts.timeoutMs ?? CUSTOM_ROUTER_TIMEOUT_MS
  const warn = (m: string) => opts.log.warn(`custom router: ${m}: using the built-in routing rules`)
  const routerLog = { warn: (m: string) => opts.log.warn(`custom router: ${m}`), info: (m: string) => opts.log.info(`custom router: ${m}`) }
  return {
    async route(input) {
      const req: CustomRouterRequest = {
        body: structuredClone(input.body), tokenCount: input.tokenCount, sessionId: input.sessionId,
        headers: routerHeaders(input.headers), format: input.format, preset: input.preset, log: routerLog,
      }
      let r: { value: unknown } | { timedOut: true }
      try {
        r = await within(Promise.resolve().then(() => fn(req, config)), timeoutMs)
      } catch (e) {
        warn(`it threw (${messageOfThrown(e)})`)
        return undefined
      }
      if ('timedOut' in r) return warn(`no answer within ${timeoutMs} ms`), undefined
      if (r.value === null || r.value === undefined || r.value === '' || r.value === false) return undefined
      if (typeof r.value !== 'string') return warn(`it returned a ${typeof r.value}, expected "provider,model" or null`), undefined
      const target = resolveExplicit(r.value, opts.providers)
      if (!target) return warn(`"${r.value}" names no configured provider and model`), undefined
      return { target: targetKey(target), body: req.body }
    },
  }
}

/**
 * Imports CUSTOM_ROUTER_PATH once (at start). A module that cannot be loaded, or does not
 * export a function, is reported as an error and the built-in rules serve every request.
 */
export async function loadCustomRouter(
  path: string,
  opts: { base: PathBase; rawConfig: unknown; providers: ProviderNames; log: Logger; timeoutMs?: number },
): Promise<CustomRouter | undefined> {
  const abs = resolvePluginPath(path, opts.base)
  try {
    const fn = await importDefault(abs)
    if (typeof fn !== 'function') throw new Error('the module exports no function (use `module.exports = async (req, config) => …` or `export default`)')
    opts.log.info(`custom router loaded from ${abs}`)
    return fenceRouter(fn as CustomRouterFn, opts)
  } catch (e) {
    opts.log.error(`CUSTOM_ROUTER_PATH ${abs}: cannot load the custom router (${messageOfThrown(e)}): using the built-in routing rules`)
    return undefined
  }
}
