/**
 * User plugins (the custom router, transformer classes) run in Web Workers (`type: 'module'`,
 * the same API on Bun and Deno), so user code that never returns cannot freeze the server: a
 * promise timeout cannot stop a synchronous `while (true) {}`, but terminating the worker can.
 * The worker's source is the function `workerMain` below, turned into a blob URL: no extra file
 * to ship next to a compiled binary, and it is type-checked with the rest. `Supervised` adds the
 * deadline, the stuck check and the capped restarts.
 *
 * Known limit (Deno 2.x): `terminate()` returns and the server keeps serving, but a worker stuck
 * in a synchronous loop keeps one CPU core busy until the process exits (denoland/deno#14003),
 * which is why restarts are capped.
 */

import { timerDelay, within } from '../lib/clock.ts'

/** What the worker answers for one routing call. */
export type WorkerAnswer =
  /** `value`: a router's pick; `returned`: what the hook returned (`nothing`, or its type); `body`: the router's body, or a transformer's result. */
  | { readonly type: 'result'; readonly value: string | null; readonly returned: string; readonly body: unknown }
  | { readonly type: 'threw'; readonly message: string }
  | { readonly type: 'gone' }

type FromWorker =
  | { type: 'ready'; name: string; hooks: string[] }
  | { type: 'failed'; message: string }
  | { type: 'pong' }
  | { type: 'log'; level: 'warn' | 'info'; msg: string }
  | ({ id: number } & WorkerAnswer)

/** Runs inside the worker. Self-contained: it is serialised with `toString()`. */
function workerMain(): void {
  const scope = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null }
  let fn: ((...args: unknown[]) => unknown) | undefined
  let config: unknown
  const post = (m: unknown): void => scope.postMessage(m)
  const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))
  const freeze = (v: unknown): unknown => {
    if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
      Object.freeze(v)
      for (const x of Object.values(v)) freeze(x)
    }
    return v
  }
  const log = {
    warn: (s: unknown): void => post({ type: 'log', level: 'warn', msg: String(s) }),
    info: (s: unknown): void => post({ type: 'log', level: 'info', msg: String(s) }),
    error: (s: unknown): void => post({ type: 'log', level: 'warn', msg: String(s) }),
    debug: (): void => {},
  }
  scope.onmessage = async (e: MessageEvent): Promise<void> => {
    const m = e.data as {
      type: string
      kind?: string
      id?: number
      url?: string
      config?: unknown
      req?: Record<string, unknown>
      args?: unknown[]
    }
    if (m.type === 'ping') return post({ type: 'pong' })
    if (m.type === 'init') {
      try {
        const mod = (await import(String(m.url))) as Record<string, unknown>
        const f = 'default' in mod ? mod['default'] : mod
        if (m.kind === 'router') {
          if (typeof f !== 'function') {
            throw new Error(
              'the module exports no function (use `module.exports = async (req, config) => …` or `export default`)',
            )
          }
          fn = f as typeof fn
          config = freeze(m.config)
          return post({ type: 'ready', name: '', hooks: [] })
        }
        if (typeof f !== 'function') {
          throw new Error('the module exports no class (use `module.exports = class { … }` or `export default class`)')
        }
        const inst = new (f as new (o: unknown) => Record<string, unknown>)(m.config)
        if (typeof inst['name'] !== 'string' || inst['name'] === '') throw new Error('the instance has no `name`')
        inst['logger'] ??= log
        const hook = inst['transformRequestIn']
        if (typeof hook === 'function') {
          fn = (...args: unknown[]) => (hook as (...a: unknown[]) => unknown).apply(inst, args)
        }
        const hooks = ['transformRequestIn', 'transformResponseOut'].filter((h) => typeof inst[h] === 'function')
        post({ type: 'ready', name: inst['name'], hooks })
      } catch (err) {
        post({ type: 'failed', message: message(err) })
      }
      return
    }
    if (fn === undefined) return
    if (m.type === 'route') {
      const req: Record<string, unknown> = { ...m.req, log }
      try {
        const value = await fn(req, config)
        const picked = typeof value === 'string' ? value : null
        const returned = value === null || value === undefined || value === '' || value === false
          ? 'nothing'
          : typeof value
        post({ type: 'result', id: m.id, value: picked, returned, body: req['body'] })
      } catch (err) {
        post({ type: 'threw', id: m.id, message: message(err) })
      }
    } else if (m.type === 'call') {
      try {
        const value = await fn(...(m.args ?? []))
        post({ type: 'result', id: m.id, value: null, returned: typeof value, body: value })
      } catch (err) {
        post({ type: 'threw', id: m.id, message: message(err) })
      }
    }
  }
}

let sourceUrl: string | undefined
function workerUrl(): string {
  sourceUrl ??= URL.createObjectURL(new Blob([`(${workerMain.toString()})()`], { type: 'text/javascript' }))
  return sourceUrl
}

export interface PluginWorkerOptions {
  /** `file:` URL of the module. */
  readonly moduleUrl: string
  /** A router (a function) or a transformer (a class with a `name`). */
  readonly kind: 'router' | 'transformer'
  /** The router's (redacted, frozen in the worker) config, or the transformer's options. */
  readonly config: unknown
  /** Log lines from the plugin (`req.log`, `this.logger`). */
  readonly onLog: (level: 'warn' | 'info', msg: string) => void
}

/** One worker running one plugin module; `start` resolves once the module is loaded. */
export class PluginWorker {
  readonly #worker: Worker
  readonly #pending = new Map<number, (a: WorkerAnswer) => void>()
  readonly #pongs: (() => void)[] = []
  #nextId = 1
  #gone = false
  /** The transformer's `name` (empty for a router) and the hooks it defines. */
  name = ''
  hooks: readonly string[] = []

  private constructor(worker: Worker) {
    this.#worker = worker
  }

  /** Starts a worker and loads the module; rejects with the module's error (the worker is then stopped). */
  static async start(opts: PluginWorkerOptions): Promise<PluginWorker> {
    const w = new PluginWorker(new Worker(workerUrl(), { type: 'module' }))
    await new Promise<void>((resolve, reject) => {
      w.#worker.onmessage = (e: MessageEvent): void => {
        const m = e.data as FromWorker
        if (m.type === 'ready') {
          w.name = m.name
          w.hooks = m.hooks
          resolve()
        } else if (m.type === 'failed') reject(new Error(m.message))
        else w.#receive(m, opts)
      }
      w.#worker.onerror = (e: ErrorEvent): void => {
        e.preventDefault()
        reject(new Error(e.message || 'the router worker failed'))
      }
      w.#worker.postMessage({ type: 'init', kind: opts.kind, url: opts.moduleUrl, config: opts.config })
    }).catch((e: unknown) => {
      w.terminate()
      throw e
    })
    return w
  }

  #receive(m: FromWorker, opts: PluginWorkerOptions): void {
    if (m.type === 'pong') { for (const f of this.#pongs.splice(0)) f() }
    else if (m.type === 'log') opts.onLog(m.level, m.msg)
    else if ('id' in m) {
      const done = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      done?.(m)
    }
  }

  /** Sends one call (`route` with `{ req }`, `call` with `{ args }`); resolves `gone` when the worker is stopped first. */
  call(
    message: { readonly type: 'route'; readonly req: Record<string, unknown> } | {
      readonly type: 'call'
      readonly args: readonly unknown[]
    },
  ): Promise<WorkerAnswer> {
    if (this.#gone) return Promise.resolve({ type: 'gone' })
    const id = this.#nextId++
    return new Promise<WorkerAnswer>((resolve) => {
      this.#pending.set(id, resolve)
      try {
        this.#worker.postMessage({ ...message, id })
      } catch (e) {
        this.#pending.delete(id)
        resolve({ type: 'threw', message: e instanceof Error ? e.message : String(e) })
      }
    })
  }

  /** Whether the worker's event loop answers within `ms` (false: it is stuck in synchronous code). */
  responsive(ms: number): Promise<boolean> {
    if (this.#gone) return Promise.resolve(false)
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timerDelay(ms))
      this.#pongs.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
      this.#worker.postMessage({ type: 'ping' })
    })
  }

  /** Stops the worker at once; calls still waiting resolve `gone`. */
  terminate(): void {
    if (this.#gone) return
    this.#gone = true
    this.#worker.terminate()
    for (const done of this.#pending.values()) done({ type: 'gone' })
    this.#pending.clear()
  }
}

export interface SupervisionOptions {
  /** Who it is, for log lines: `custom router`, `transformer stamp`. */
  readonly what: string
  readonly timeoutMs: number
  readonly stuckMs: number
  readonly maxRestarts: number
  readonly log: { warn(m: string): void; error(m: string): void }
}

/**
 * A plugin worker with a deadline per call. After a missed deadline the worker is pinged, and
 * when it does not answer within `stuckMs` (synchronous code is running) it is terminated and a
 * fresh one is started; calls meanwhile get `gone`. After `maxRestarts` it stays off, loudly.
 */
export class Supervised {
  readonly #start: () => Promise<PluginWorker>
  readonly #o: SupervisionOptions
  #current: PluginWorker | undefined
  #closed = false
  #checking = false
  #restarts = 0

  private constructor(first: PluginWorker, start: () => Promise<PluginWorker>, o: SupervisionOptions) {
    this.#current = first
    this.#start = start
    this.#o = o
  }

  /** Starts the first worker; rejects with the module's load error. */
  static async start(start: () => Promise<PluginWorker>, o: SupervisionOptions): Promise<Supervised> {
    return new Supervised(await start(), start, o)
  }

  get worker(): PluginWorker | undefined {
    return this.#current
  }

  /** One call within the deadline: the answer, `timedOut`, or `gone` (no worker right now). */
  async call(message: Parameters<PluginWorker['call']>[0]): Promise<WorkerAnswer | { readonly type: 'timedOut' }> {
    const w = this.#current
    if (w === undefined) return { type: 'gone' }
    const r = await within(w.call(message), this.#o.timeoutMs)
    if ('value' in r) return r.value
    void this.#check(w)
    return { type: 'timedOut' }
  }

  async #check(w: PluginWorker): Promise<void> {
    if (this.#checking) return
    this.#checking = true
    try {
      if (await w.responsive(this.#o.stuckMs)) return
      w.terminate()
      if (this.#current === w) this.#current = undefined
      const { what, timeoutMs, stuckMs, log } = this.#o
      if (++this.#restarts > this.#o.maxRestarts) {
        log.error(`${what}: stuck in synchronous code ${this.#restarts} times: switched off`)
        return
      }
      log.warn(
        `${what}: still busy ${stuckMs} ms after its ${timeoutMs} ms deadline: its worker was stopped and is restarting`,
      )
      const fresh = await this.#start().catch((e: unknown) => {
        log.error(`${what}: cannot restart (${e instanceof Error ? e.message : String(e)})`)
        return undefined
      })
      if (this.#closed) fresh?.terminate()
      else this.#current = fresh
    } finally {
      this.#checking = false
    }
  }

  close(): void {
    this.#closed = true
    this.#current?.terminate()
    this.#current = undefined
  }
}
