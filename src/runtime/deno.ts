/** Deno adapter. Declares by hand the narrow slice of `Deno` it calls. */
import { isWebSocketHandshake, type SocketSession, type UpgradeWebSocket } from '../lib/web-socket.ts'
import type { Handler, Runtime, Served, ServeOptions } from './types.ts'

interface DenoHttpServer {
  readonly addr: { readonly port: number; readonly hostname: string }
  shutdown(): Promise<void>
  readonly finished: Promise<void>
}
interface DenoGlobal {
  readonly version: { readonly deno: string }
  serve(
    o: {
      port: number
      hostname: string
      signal?: AbortSignal
      onListen?: (a: { port: number; hostname: string }) => void
    },
    h: Handler,
  ): DenoHttpServer
  upgradeWebSocket(req: Request): { socket: WebSocket; response: Response }
  readonly mainModule: string
  execPath(): string
  addSignalListener(s: string, fn: () => void): void
  removeSignalListener(s: string, fn: () => void): void
}

/** The slice of `Deno` that calls glibc's `malloc_trim` (`Deno.build`, `Deno.permissions`, `Deno.dlopen`). */
export interface DenoNative {
  readonly build: { readonly os: string }
  readonly permissions: { querySync(d: { name: 'ffi' }): { readonly state: string } }
  dlopen(
    path: string,
    symbols: { malloc_trim: { parameters: ['usize']; result: 'i32' } },
  ): { readonly symbols: { malloc_trim(pad: number | bigint): number } }
}

const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno

/** The open WebSockets of a server, found from a handshake being answered (only a served request can be upgraded). */
const handshakes = new WeakMap<Request, { sockets: Map<WebSocket, SocketSession>; handler: Handler }>()

const upgradeWebSocket: UpgradeWebSocket = (req, session) => {
  const at = handshakes.get(req)
  if (!at || !isWebSocketHandshake(req)) return undefined
  const { sockets, handler } = at
  let upgraded: { socket: WebSocket; response: Response }
  try {
    upgraded = deno.upgradeWebSocket(req)
  } catch {
    return undefined // a malformed handshake (no key, wrong version): the route answers it as a plain request
  }
  const { socket, response } = upgraded
  socket.binaryType = 'arraybuffer'
  // A frame sent after the client left would throw: it is lost either way.
  const send = (text: string) => socket.readyState === WebSocket.OPEN && socket.send(text)
  socket.onopen = () => {
    sockets.set(socket, session)
    session.open({
      send,
      sendAll: (texts) => texts.forEach(send),
      forward: async (req) => await handler(req),
      close: (code, reason) => socket.close(code, reason),
    })
  }
  socket.onmessage = (e: MessageEvent) =>
    session.message(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer))
  socket.onclose = () => {
    sockets.delete(socket)
    session.close()
  }
  return response
}

function serve(handler: Handler, opts: ServeOptions): Promise<Served> {
  const abort = new AbortController()
  let closed = false
  const sockets = new Map<WebSocket, SocketSession>()
  const served: Handler = (req) => {
    if (req.method === 'GET' && req.headers.has('upgrade')) handshakes.set(req, { sockets, handler })
    return handler(req)
  }
  return new Promise((resolve) => {
    const server = deno.serve(
      {
        port: opts.port,
        hostname: opts.hostname,
        signal: abort.signal,
        onListen: (a) =>
          resolve({
            port: a.port,
            hostname: a.hostname,
            stop: async (force?: boolean) => {
              if (closed) return
              if (!force) {
                // Deno's shutdown closes every upgraded socket at once ("Server shutting down"),
                // an answer in flight or not: each is asked to close once idle, and waited for.
                await Promise.all([...sockets].map(([ws, session]) => {
                  const gone = new Promise((r) => ws.addEventListener('close', r, { once: true }))
                  session.drain()
                  return gone
                }))
                if (closed) return // forced meanwhile
              }
              for (const ws of sockets.keys()) ws.close(1001, 'server stopping')
              if (force) {
                closed = true
                // Aborting after a graceful shutdown finished throws BadResource in Deno 2.9.
                try {
                  abort.abort()
                } catch { /* already closed */ }
              } else {
                await server.shutdown()
                closed = true
              }
              await server.finished.catch(() => undefined)
            },
          }),
      },
      served,
    )
  })
}

function onSignal(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', fn: () => void): () => void {
  deno.addSignalListener(signal, fn)
  return () => deno.removeSignalListener(signal, fn)
}

/** `deno run` of the main module, with the project's deno.json (npm packages, unstable flags) wherever the cwd is. */
function selfCommand(args: readonly string[]): { cmd: string; args: readonly string[] } {
  const main = deno.mainModule
  const config = new URL('../../deno.json', import.meta.url)
  const configArgs = config.protocol === 'file:' ? ['--config', decodeURIComponent(config.pathname)] : []
  return {
    cmd: deno.execPath(),
    args: [
      'run',
      '-A',
      ...configArgs,
      main.startsWith('file:') ? decodeURIComponent(new URL(main).pathname) : main,
      ...args,
    ],
  }
}

/**
 * Bytes per read of an upstream body. Deno's default reader of a fetch body allocates a fresh
 * 64 KiB buffer for every chunk, however short (a 51-byte SSE event measured 65,536), so a
 * thousand streams allocate gigabytes a second of native memory that V8 frees late: 650–760 MB
 * RSS at 1,000 streams (docs/benchmarks.md, "Performance round 2"). SSE events are short.
 */
const READ_BYTES = 4096
const NULL_BODY = new Set([101, 204, 205, 304])

/** The same response, its body read through a BYOB reader `READ_BYTES` at a time, each chunk copied to its own size (JSON bodies as they are). */
function smallReads(res: Response): Response {
  const body = res.body
  if (!body || NULL_BODY.has(res.status) || (res.headers.get('content-type') ?? '').includes('json')) return res
  let reader: ReadableStreamBYOBReader
  try {
    reader = body.getReader({ mode: 'byob' })
  } catch {
    return res // not a byte stream (Deno's fetch bodies always are): left as it is
  }
  let buffer = new Uint8Array(READ_BYTES)
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await reader.read(buffer)
      if (r.done) return c.close()
      // One read buffer for the whole body, and each chunk a copy of its own size: a chunk queued
      // for a slow client holds its bytes only, not a 4 KiB buffer (and no buffer is made per read).
      buffer = new Uint8Array(r.value.buffer)
      c.enqueue(r.value.slice())
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 })
  return new Response(stream, { status: res.status, statusText: res.statusText, headers: res.headers })
}

/**
 * glibc's `malloc_trim(0)` through Deno's FFI, or undefined where it cannot be called. Deno's
 * native side (its HTTP server and fetch client) allocates with glibc's malloc across many
 * threads, and what a burst freed stays in the threads' arenas: a 5,000-stream burst left
 * ~900–950 MB 3 s after it and ~420–470 MB once V8 had collected; with a trim when the instance
 * went idle, ~680–750 and ~270 MB (docs/benchmarks.md, thirteenth pass). Only
 * on Linux, and only when FFI is already granted (`-A`, as `deno task start` runs): asking
 * would prompt at a terminal. A libc that is not glibc has no `libc.so.6` with that symbol, so
 * `dlopen` throws and there is nothing to call.
 */
export function glibcTrim(native: DenoNative | undefined): (() => number) | undefined {
  try {
    if (native?.build.os !== 'linux' || native.permissions.querySync({ name: 'ffi' }).state !== 'granted') {
      return undefined
    }
    const { symbols } = native.dlopen('libc.so.6', { malloc_trim: { parameters: ['usize'], result: 'i32' } })
    return () => symbols.malloc_trim(0)
  } catch {
    return undefined
  }
}

/** Built on the first collection (start-up), so importing this adapter under Bun touches nothing. */
let trim: (() => number) | undefined | null = null

// Deno's fetch has no in-flight cap to raise, and Deno offers no GC call without --expose-gc:
// what it can give back at an idle moment is the native memory a burst left in malloc's arenas.
export const denoRuntime: Runtime = {
  name: 'deno',
  version: deno?.version.deno ?? 'unknown',
  serve,
  upgradeWebSocket,
  onSignal,
  relaunchWithServerLimits: () => undefined,
  onOrphaned: () => () => {},
  selfCommand,
  smallReads,
  // Deno sends text as fast as bytes, or faster (encoding first cost 0.15–0.3 ms more per 850 KB call).
  requestBody: (text) => text,
  reclaimMemory: () => {
    if (trim === null) trim = glibcTrim((globalThis as unknown as { Deno?: DenoNative }).Deno)
    trim?.()
  },
}
