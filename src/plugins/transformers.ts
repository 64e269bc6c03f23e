/**
 * CCR custom transformers (`transformers: [{ path, options }]`, docs/protocols.md §8.6): each module
 * exports a class; we construct it with its options, give it a `logger`, and register it by
 * its instance `name`, so a provider's `use` list can name it. A plugin named like a built-in
 * replaces it (CCR: the later registration wins).
 *
 * The hook run is `transformRequestIn(body, provider, context)` on the upstream-format body,
 * returning the body or CCR's `{ body, config }` form, directly or as a Promise (CCR's own
 * transformers are async; the pipeline awaits them). A hook that throws or rejects leaves the
 * body unchanged, with a warning.
 *
 * Loaded from files, each plugin runs in its own worker (plugin-worker.ts): a hook that has not
 * answered within TRANSFORMER_TIMEOUT_MS leaves the body unchanged, and one still stuck in
 * synchronous code 200 ms later has its worker terminated and restarted, so a plugin cannot
 * freeze the server.
 */
import type { JsonObject } from '../formats/types.ts'
import { registerTransformer, type RequestStep, unregisterTransformer } from '../formats/transformers/registry.ts'
import type { Logger } from '../log.ts'
import { messageOfThrown, moduleUrlOf, type PathBase, resolvePluginPath } from './load.ts'
import { PluginWorker, Supervised } from './plugin-worker.ts'
import { isObject } from '../formats/translate/json.ts'

/** How long one `transformRequestIn` may take before the body goes on unchanged. */
export const TRANSFORMER_TIMEOUT_MS = 1_000
/** A transformer worker not answering a ping this long after its deadline is stuck in synchronous code. */
export const TRANSFORMER_STUCK_MS = 200
/** Restarts of a stuck transformer before it is switched off (requests then skip it). */
export const TRANSFORMER_MAX_RESTARTS = 5

export interface TransformerPluginUse {
  readonly path: string
  readonly options: Readonly<Record<string, unknown>>
}

/** The body a hook's result stands for: a body, `{ body, config }`, or nothing (keep the input). */
function bodyOf(result: unknown, input: JsonObject): JsonObject {
  if (isObject(result) && isObject(result.body) && 'config' in result) return result.body
  return isObject(result) ? result : input
}

/** A plugin transformer running in a supervised worker, as a request step (always async). */
export async function workerStep(use: TransformerPluginUse, abs: string, log: Logger): Promise<{ name: string; step: RequestStep | undefined; hooks: readonly string[]; close: () => void }> {
  const startOne = () => PluginWorker.start({
    moduleUrl: moduleUrlOf(abs), kind: 'transformer', config: use.options,
    onLog: (level, msg) => log[level](`transformer ${abs}: ${msg}`),
  })
  let first: PluginWorker | undefined = await startOne()
  const { name, hooks } = first
  const sup = await Supervised.start(async () => {
    const w = first ?? await startOne()
    first = undefined
    return w
  }, { what: `transformer ${name}`, timeoutMs: TRANSFORMER_TIMEOUT_MS, stuckMs: TRANSFORMER_STUCK_MS, maxRestarts: TRANSFORMER_MAX_RESTARTS, log })
  const step: RequestStep | undefined = !hooks.includes('transformRequestIn') ? undefined : async (body, _options, ctx) => {
    const a = await sup.call({ type: 'call', args: [body, { name: ctx.model, model: ctx.model, format: ctx.format }, { model: ctx.model }] })
    if (a.type === 'result') return bodyOf(a.body, body)
    if (a.type === 'threw') log.warn(`transformer ${name}: transformRequestIn threw (${a.message}): body left unchanged`)
    else if (a.type === 'timedOut') log.warn(`transformer ${name}: transformRequestIn gave no answer within ${TRANSFORMER_TIMEOUT_MS} ms: body left unchanged`)
    return body
  }
  return { name, step, hooks, close: () => sup.close() }
}

/**
 * Loads every configured plugin, in order, each in its own worker, and registers its request
 * hook. Failures are logged and skipped (the proxy still starts). Returns the names registered
 * and a function that unregisters them and stops their workers (a reload, or a test).
 */
export async function loadTransformerPlugins(uses: readonly TransformerPluginUse[], opts: { base: PathBase; log: Logger }): Promise<{ names: string[]; unload: () => void }> {
  const registered: [string, RequestStep, () => void][] = []
  for (const use of uses) {
    const abs = resolvePluginPath(use.path, opts.base)
    try {
      const { name, step, hooks, close } = await workerStep(use, abs, opts.log)
      const request: RequestStep = step ?? ((b) => b)
      registerTransformer(name, request)
      registered.push([name, request, close])
      if (hooks.includes('transformResponseOut')) opts.log.warn(`transformer ${name}: transformResponseOut is not supported yet and is not called`)
      opts.log.info(`transformer ${name} loaded from ${abs} (in a worker)`)
    } catch (e) {
      opts.log.error(`transformers: cannot load ${abs} (${messageOfThrown(e)}): skipped`)
    }
  }
  return {
    names: registered.map(([n]) => n),
    unload: () => {
      for (const [n, r, close] of registered) {
        unregisterTransformer(n, r)
        close()
      }
    },
  }
}
