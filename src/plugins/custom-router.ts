/**
 * CCR's CUSTOM_ROUTER_PATH (docs/protocols.md §8.5): a module exporting
 * `async (req, config) => "provider,model" | null`, called before the built-in scenario rules.
 * The router is user code, so it is fenced: it sees a copy of the body, headers without
 * credentials and the redacted config; a throw, a 50 ms overrun or a target naming no
 * configured provider logs a warning and the built-in rules decide. A request never fails
 * because of its router. It runs in a worker (plugin-worker.ts): one that is still busy in
 * synchronous code shortly after its deadline is terminated and restarted, so not even
 * `while (true) {}` can freeze the server.
 */
import { redactConfig, SECRET_KEY } from '../config/redact.ts'
import type { CustomRoute, CustomRouter } from '../deps.ts'

export type { CustomRoute, CustomRouter, CustomRouterInput } from '../deps.ts'
import type { JsonObject, WireFormatName } from '../formats/types.ts'
import type { Logger } from '../log.ts'
import { resolveExplicit, targetKey } from '../routing/target.ts'
import type { ProviderNames } from '../routing/target.ts'
import { messageOfThrown, moduleUrlOf, type PathBase, resolvePluginPath } from './load.ts'
import { PluginWorker, Supervised } from './plugin-worker.ts'
import { setOwn } from '../lib/own.ts'

/** CCR's budget for a custom router: routing must stay cheap next to the upstream call. */
export const CUSTOM_ROUTER_TIMEOUT_MS = 50
/** A router worker that has not answered a ping this long after a deadline is stuck in synchronous code. */
export const ROUTER_STUCK_MS = 200
/** Restarts of a stuck router before it is switched off for the life of the process. */
export const ROUTER_MAX_RESTARTS = 5

/** The `req` a custom router receives (CCR's fields, plus `format` and `preset`): the contract plugin-worker.ts builds. */
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

interface PickOptions {
  readonly providers: ProviderNames
  readonly warn: (m: string) => void
}

/** The route a router's answer names, or undefined (with a warning when the answer was wrong). */
function pickOf(value: unknown, body: JsonObject, opts: PickOptions): CustomRoute | undefined {
  if (value === null || value === undefined || value === '' || value === false) return undefined
  if (typeof value !== 'string') {
    return opts.warn(`it returned a ${typeof value}, expected "provider,model" or null`), undefined
  }
  const target = resolveExplicit(value, opts.providers)
  if (!target) return opts.warn(`"${value}" names no configured provider and model`), undefined
  return { target: targetKey(target), body }
}

const warner = (log: Logger) => (m: string): void => log.warn(`custom router: ${m}: using the built-in routing rules`)

/** Client headers a router may see: every one whose name does not look like a credential. */
export function routerHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of h) if (!SECRET_KEY.test(k) && k !== 'cookie') setOwn(out, k, v)
  return out
}

export interface WorkerRouterOptions {
  readonly moduleUrl: string
  readonly rawConfig: unknown
  readonly providers: ProviderNames
  readonly log: Logger
  readonly timeoutMs?: number
  readonly stuckMs?: number
  readonly maxRestarts?: number
}

/**
 * A router module run in a worker, with the fences of the file comment, plus: after a missed
 * deadline the worker is pinged, and when it does not answer within `stuckMs` (synchronous code
 * is running) it is terminated and a fresh one is started. Requests arriving meanwhile use the
 * built-in rules. After `maxRestarts` the router is switched off, loudly.
 */
export async function workerRouter(opts: WorkerRouterOptions): Promise<CustomRouter> {
  const timeoutMs = opts.timeoutMs ?? CUSTOM_ROUTER_TIMEOUT_MS
  const warn = warner(opts.log)
  const config = redactConfig(opts.rawConfig)
  const sup = await Supervised.start(
    () =>
      PluginWorker.start({
        moduleUrl: opts.moduleUrl,
        kind: 'router',
        config,
        onLog: (level, msg) => opts.log[level](`custom router: ${msg}`),
      }),
    {
      what: 'custom router',
      timeoutMs,
      stuckMs: opts.stuckMs ?? ROUTER_STUCK_MS,
      maxRestarts: opts.maxRestarts ?? ROUTER_MAX_RESTARTS,
      log: opts.log,
    },
  )
  return {
    async route(input) {
      const req = {
        body: input.body,
        tokenCount: input.tokenCount,
        sessionId: input.sessionId,
        headers: routerHeaders(input.headers),
        format: input.format,
        preset: input.preset,
      }
      const a = await sup.call({ type: 'route', req })
      if (a.type === 'timedOut') return warn(`no answer within ${timeoutMs} ms`), undefined
      if (a.type === 'gone') return undefined
      if (a.type === 'threw') return warn(`it threw (${a.message})`), undefined
      if (a.value === null && a.returned !== 'nothing') {
        return warn(`it returned a ${a.returned}, expected "provider,model" or null`), undefined
      }
      const body = typeof a.body === 'object' && a.body !== null && !Array.isArray(a.body)
        ? (a.body as JsonObject)
        : input.body
      return pickOf(a.value, body, { providers: opts.providers, warn })
    },
    close: () => sup.close(),
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
    const router = await workerRouter({ ...opts, moduleUrl: moduleUrlOf(abs) })
    opts.log.info(`custom router loaded from ${abs} (in a worker)`)
    return router
  } catch (e) {
    opts.log.error(
      `CUSTOM_ROUTER_PATH ${abs}: cannot load the custom router (${
        messageOfThrown(e)
      }): using the built-in routing rules`,
    )
    return undefined
  }
}
