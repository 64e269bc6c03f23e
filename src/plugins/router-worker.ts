/**
 * The custom router runs in a Web Worker (`type: 'module'`, the same API on Bun and Deno), so
 * user code that never returns cannot freeze the server: a promise timeout cannot stop a
 * synchronous `while (true) {}`, but terminating the worker can. The worker's source is the
 * function `workerMain` below, turned into a blob URL: no extra file to ship next to a compiled
 * binary, and it is type-checked with the rest.
 *
 * Known limit (Deno 2.x): `terminate()` returns and the server keeps serving, but a worker stuck
 * in a synchronous loop keeps one CPU core busy until the process exits (denoland/deno#14003),
 * which is why restarts are capped (see custom-router.ts).
 */

import { timerDelay } from '../lib/clock.ts'

/** What the worker answers for one routing call. */
export type WorkerAnswer =
  | { readonly type: 'result'; readonly value: string | null; readonly returned: string; readonly body: unknown }
  | { readonly type: 'threw'; readonly message: string }
  | { readonly type: 'gone' }

type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'pong' }
  | { type: 'log'; level: 'warn' | 'info'; msg: string }
  | ({ id: number } & WorkerAnswer)

/** Runs inside the worker. Self-contained: it is serialised with `toString()`. */
function workerMain(): void {
  const scope = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null }
  let fn: ((req: unknown, config: unknown) => unknown) | undefined
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
  scope.onmessage = async (e: MessageEvent): Promise<void> => {
    const m = e.data as { type: string; id?: number; url?: string; config?: unknown; req?: Record<string, unknown> }
    if (m.type === 'ping') return post({ type: 'pong' })
    if (m.type === 'init') {
      try {
        const mod = (await import(String(m.url))) as Record<string, unknown>
        const f = 'default' in mod ? mod['default'] : mod
        if (typeof f !== 'function') throw new Error('the module exports no function (use `module.exports = async (req, config) => …` or `export default`)')
        fn = f as typeof fn
        config = freeze(m.config)
        post({ type: 'ready' })
      } catch (err) {
        post({ type: 'failed', message: message(err) })
      }
      return
    }
    if (m.type !== 'route' || fn === undefined) return
    const log = {
      warn: (s: unknown): void => post({ type: 'log', level: 'warn', msg: String(s) }),
      info: (s: unknown): void => post({ type: 'log', level: 'info', msg: String(s) }),
    }
    const req: Record<string, unknown> = { ...m.req, log }
    try {
      const value = await fn(req, config)
      const picked = typeof value === 'string' ? value : null
      const returned = value === null || value === undefined || value === '' || value === false ? 'nothing' : typeof value
      post({ type: 'result', id: m.id, value: picked, returned, body: req['body'] })
    } catch (err) {
      post({ type: 'threw', id: m.id, message: message(err) })
    }
  }
}

let sourceUrl: string | undefined
function workerUrl(): string {
  sourceUrl ??= URL.createObjectURL(new Blob([`(${workerMain.toString()})()`], { type: 'text/javascript' }))
  return sourceUrl
}

export interface RouterWorkerOptions {
  /** `file:` URL of the router module. */
  readonly moduleUrl: string
  /** The (redacted) config handed to the router; frozen inside the worker. */
  readonly config: unknown
  /** `req.log` lines from the router. */
  readonly onLog: (level: 'warn' | 'info', msg: string) => void
}

/** One worker running the router module; `start` resolves once the module is loaded. */
export class RouterWorker {
  readonly #worker: Worker
  readonly #pending = new Map<number, (a: WorkerAnswer) => void>()
  readonly #pongs: (() => void)[] = []
  #nextId = 1
  #gone = false

  private constructor(worker: Worker) {
    this.#worker = worker
  }

  /** Starts a worker and loads the module; rejects with the module's error (the worker is then stopped). */
  static async start(opts: RouterWorkerOptions): Promise<RouterWorker> {
    const w = new RouterWorker(new Worker(workerUrl(), { type: 'module' }))
    await new Promise<void>((resolve, reject) => {
      w.#worker.onmessage = (e: MessageEvent): void => {
        const m = e.data as FromWorker
        if (m.type === 'ready') resolve()
        else if (m.type === 'failed') reject(new Error(m.message))
        else w.#receive(m, opts)
      }
      w.#worker.onerror = (e: ErrorEvent): void => {
        e.preventDefault()
        reject(new Error(e.message || 'the router worker failed'))
      }
      w.#worker.postMessage({ type: 'init', url: opts.moduleUrl, config: opts.config })
    }).catch((e: unknown) => {
      w.terminate()
      throw e
    })
    return w
  }

  #receive(m: FromWorker, opts: RouterWorkerOptions): void {
    if (m.type === 'pong') for (const f of this.#pongs.splice(0)) f()
    else if (m.type === 'log') opts.onLog(m.level, m.msg)
    else if ('id' in m) {
      const done = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      done?.(m)
    }
  }

  /** Sends one routing call; resolves `gone` when the worker is stopped first. */
  call(req: Record<string, unknown>): Promise<WorkerAnswer> {
    if (this.#gone) return Promise.resolve({ type: 'gone' })
    const id = this.#nextId++
    return new Promise<WorkerAnswer>((resolve) => {
      this.#pending.set(id, resolve)
      try {
        this.#worker.postMessage({ type: 'route', id, req })
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
      this.#pongs.push(() => { clearTimeout(timer); resolve(true) })
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
