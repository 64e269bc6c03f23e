/**
 * CCR custom transformers (`transformers: [{ path, options }]`, docs/protocols.md §8.6): each module
 * exports a class; we construct it with its options, give it a `logger`, and register it by
 * its instance `name`, so a provider's `use` list can name it. A plugin named like a built-in
 * replaces it (CCR: the later registration wins).
 *
 * The hooks run are `transformRequestIn(body, provider, context)` on the upstream-format body,
 * returning the body or CCR's `{ body, config }` form, and `transformResponseOut(response,
 * context)` on the upstream's answer (a WHATWG Response, JSON or SSE stream, in the upstream's
 * format, before translation), returning a Response; either directly or as a Promise (CCR's own
 * transformers are async; the pipeline awaits them). A request hook that throws or rejects
 * leaves the body unchanged, with a warning; a response hook that fails keeps the answer when
 * it had not read it yet, and otherwise turns it into a 502 (retried and failed over like one).
 *
 * Each plugin runs in its own worker (plugin-worker.ts): a request hook that has not answered
 * within TRANSFORMER_TIMEOUT_MS leaves the body unchanged, and one still stuck in synchronous
 * code 200 ms later has its worker terminated and restarted, so it cannot freeze the server.
 * A plugin that defines `transformResponseOut` is the exception: its hook works on the live
 * answer (a stream a worker cannot share), so such a plugin is loaded in the process, unfenced
 * against synchronous loops (docs/security.md).
 */
import type { JsonObject } from '../formats/types.ts'
import {
  isThenable,
  registerTransformer,
  type RequestStep,
  type ResponseStep,
  unregisterTransformer,
} from '../formats/transformers/registry.ts'
import type { Logger } from '../log.ts'
import { messageOfThrown, moduleUrlOf, type PathBase, resolvePluginPath } from './load.ts'
import { PluginWorker, Supervised } from './plugin-worker.ts'
import { isObject } from '../formats/translate/json.ts'

/** How long one `transformRequestIn` in a worker may take before the body goes on unchanged. */
export const TRANSFORMER_TIMEOUT_MS = 1_000
/** A transformer worker not answering a ping this long after its deadline is stuck in synchronous code. */
export const TRANSFORMER_STUCK_MS = 200
/** Restarts of a stuck transformer before it is switched off (requests then skip it). */
export const TRANSFORMER_MAX_RESTARTS = 5

export interface TransformerPluginUse {
  readonly path: string
  readonly options: Readonly<Record<string, unknown>>
}

/** The members of a CCR transformer instance we call. */
interface TransformerInstance {
  name?: unknown
  logger?: unknown
  transformRequestIn?: unknown
  transformResponseOut?: unknown
}

/** The body a hook's result stands for: a body, `{ body, config }`, or nothing (keep the input). */
function bodyOf(result: unknown, input: JsonObject): JsonObject {
  if (isObject(result) && isObject(result.body) && 'config' in result) return result.body
  return isObject(result) ? result : input
}

/** The request step that calls one instance's `transformRequestIn`, fenced (see file comment). */
export function requestStepOf(inst: TransformerInstance, name: string, log: Logger): RequestStep | undefined {
  const hook = inst.transformRequestIn
  if (typeof hook !== 'function') return undefined
  return (body, _options, ctx) => {
    try {
      const result: unknown = hook.call(inst, structuredClone(body), {
        name: ctx.model,
        model: ctx.model,
        format: ctx.format,
      }, { model: ctx.model })
      if (!isThenable(result)) return bodyOf(result, body)
      // CCR's own transformers are async: wait for it, and keep the body if it rejects.
      return (result as Promise<unknown>).then((r) => bodyOf(r, body), (e: unknown) => {
        log.warn(`transformer ${name}: transformRequestIn rejected (${messageOfThrown(e)}): body left unchanged`)
        return body
      })
    } catch (e) {
      log.warn(`transformer ${name}: transformRequestIn threw (${messageOfThrown(e)}): body left unchanged`)
      return body
    }
  }
}

/** The response step that calls one instance's `transformResponseOut`, fenced (see file comment). */
export function responseStepOf(inst: TransformerInstance, name: string, log: Logger): ResponseStep | undefined {
  const hook = inst.transformResponseOut
  if (typeof hook !== 'function') return undefined
  const failed = (res: Response, why: string): Response => {
    log.warn(`transformer ${name}: transformResponseOut ${why}`)
    if (!res.bodyUsed) return res
    const message = `transformer ${name} failed on the upstream answer`
    return new Response(JSON.stringify({ error: { type: 'api_error', message } }), {
      status: 502,
      headers: { 'content-type': 'application/json' },
    })
  }
  return async (res, _options, ctx) => {
    let out: unknown
    try {
      out = await hook.call(inst, res, { model: ctx.model, format: ctx.format })
    } catch (e) {
      return failed(res, `threw (${messageOfThrown(e)})`)
    }
    return out instanceof Response ? out : failed(res, 'returned no Response: answer left unchanged')
  }
}

/** Constructs one plugin class and checks the contract; an Error names what is wrong. */
export function instantiate(
  mod: unknown,
  options: Readonly<Record<string, unknown>>,
  log: Logger,
): TransformerInstance {
  if (typeof mod !== 'function') {
    throw new Error('the module exports no class (use `module.exports = class { … }` or `export default class`)')
  }
  const inst = new (mod as new (o: unknown) => TransformerInstance)(options)
  if (typeof inst.name !== 'string' || inst.name === '') throw new Error('the instance has no `name`')
  inst.logger ??= { info: log.info, warn: log.warn, error: log.error, debug: log.debug }
  return inst
}

/** A plugin transformer running in a supervised worker, as a request step (always async). */
export async function workerStep(
  use: TransformerPluginUse,
  abs: string,
  log: Logger,
): Promise<{ name: string; step: RequestStep | undefined; hooks: readonly string[]; close: () => void }> {
  const startOne = () =>
    PluginWorker.start({
      moduleUrl: moduleUrlOf(abs),
      kind: 'transformer',
      config: use.options,
      onLog: (level, msg) => log[level](`transformer ${abs}: ${msg}`),
    })
  let first: PluginWorker | undefined = await startOne()
  const { name, hooks } = first
  const sup = await Supervised.start(async () => {
    const w = first ?? await startOne()
    first = undefined
    return w
  }, {
    what: `transformer ${name}`,
    timeoutMs: TRANSFORMER_TIMEOUT_MS,
    stuckMs: TRANSFORMER_STUCK_MS,
    maxRestarts: TRANSFORMER_MAX_RESTARTS,
    log,
  })
  const step: RequestStep | undefined = !hooks.includes('transformRequestIn')
    ? undefined
    : async (body, _options, ctx) => {
      const a = await sup.call({
        type: 'call',
        args: [body, { name: ctx.model, model: ctx.model, format: ctx.format }, { model: ctx.model }],
      })
      if (a.type === 'result') return bodyOf(a.body, body)
      if (a.type === 'threw') {
        log.warn(
          `transformer ${name}: transformRequestIn threw (${a.message}): body left unchanged`,
        )
      } else if (a.type === 'timedOut') {
        log.warn(
          `transformer ${name}: transformRequestIn gave no answer within ${TRANSFORMER_TIMEOUT_MS} ms: body left unchanged`,
        )
      }
      return body
    }
  return { name, step, hooks, close: () => sup.close() }
}

/** The module's default export, or the module itself when it has none. */
async function importDefault(abs: string): Promise<unknown> {
  const mod = (await import(moduleUrlOf(abs))) as Record<string, unknown>
  return 'default' in mod ? mod['default'] : mod
}

/**
 * Loads every configured plugin, in order, and registers its hooks: in its own worker, or in
 * the process when it defines `transformResponseOut` (see the file comment). Failures are
 * logged and skipped (the proxy still starts). Returns the names registered and a function
 * that unregisters them and stops their workers (a reload, or a test).
 */
export async function loadTransformerPlugins(
  uses: readonly TransformerPluginUse[],
  opts: { base: PathBase; log: Logger },
): Promise<{ names: string[]; unload: () => void }> {
  const registered: [string, RequestStep, () => void][] = []
  for (const use of uses) {
    const abs = resolvePluginPath(use.path, opts.base)
    try {
      const inWorker = await workerStep(use, abs, opts.log)
      if (!inWorker.hooks.includes('transformResponseOut')) {
        const request: RequestStep = inWorker.step ?? ((b) => b)
        registerTransformer(inWorker.name, request)
        registered.push([inWorker.name, request, inWorker.close])
        opts.log.info(`transformer ${inWorker.name} loaded from ${abs} (in a worker)`)
        continue
      }
      inWorker.close()
      const inst = instantiate(await importDefault(abs), use.options, opts.log)
      const name = inst.name as string
      const request: RequestStep = requestStepOf(inst, name, opts.log) ?? ((b) => b)
      registerTransformer(name, request, responseStepOf(inst, name, opts.log))
      registered.push([name, request, () => {}])
      opts.log.info(
        `transformer ${name} loaded from ${abs} (in the process: transformResponseOut works on the live answer)`,
      )
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
