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
 */
import type { JsonObject } from '../formats/types.ts'
import { isThenable, registerTransformer, type RequestStep, type ResponseStep, unregisterTransformer } from '../formats/transformers/registry.ts'
import type { Logger } from '../log.ts'
import { importDefault, messageOfThrown, type PathBase, resolvePluginPath } from './load.ts'
import { isObject } from '../formats/translate/json.ts'

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
      const result: unknown = hook.call(inst, structuredClone(body), { name: ctx.model, model: ctx.model, format: ctx.format }, { model: ctx.model })
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
    return new Response(JSON.stringify({ error: { type: 'api_error', message } }), { status: 502, headers: { 'content-type': 'application/json' } })
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
export function instantiate(mod: unknown, options: Readonly<Record<string, unknown>>, log: Logger): TransformerInstance {
  if (typeof mod !== 'function') throw new Error('the module exports no class (use `module.exports = class { … }` or `export default class`)')
  const inst = new (mod as new (o: unknown) => TransformerInstance)(options)
  if (typeof inst.name !== 'string' || inst.name === '') throw new Error('the instance has no `name`')
  inst.logger ??= { info: log.info, warn: log.warn, error: log.error, debug: log.debug }
  return inst
}

/**
 * Loads every configured plugin, in order, and registers its request hook. Failures are
 * logged and skipped (the proxy still starts). Returns the names registered and a function
 * that unregisters them (a reload, or a test).
 */
export async function loadTransformerPlugins(uses: readonly TransformerPluginUse[], opts: { base: PathBase; log: Logger }): Promise<{ names: string[]; unload: () => void }> {
  const registered: [string, RequestStep][] = []
  for (const use of uses) {
    const abs = resolvePluginPath(use.path, opts.base)
    try {
      const inst = instantiate(await importDefault(abs), use.options, opts.log)
      const name = inst.name as string
      const step = requestStepOf(inst, name, opts.log)
      const request: RequestStep = step ?? ((b) => b)
      registerTransformer(name, request, responseStepOf(inst, name, opts.log))
      registered.push([name, request])
      opts.log.info(`transformer ${name} loaded from ${abs}`)
    } catch (e) {
      opts.log.error(`transformers: cannot load ${abs} (${messageOfThrown(e)}): skipped`)
    }
  }
  return { names: registered.map(([n]) => n), unload: () => { for (const [n, r] of registered) unregisterTransformer(n, r) } }
}
