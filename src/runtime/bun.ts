/**
 * Bun adapter. Declares by hand the narrow slice of `Bun` it calls, so the Deno checker needs
 * no Bun types.
 */
import { spawn } from 'node:child_process'
import { isWebSocketHandshake, type SocketSession, type UpgradeWebSocket } from '../lib/web-socket.ts'
import type { Handler, Runtime, Served, ServeOptions } from './types.ts'

interface BunServer {
  readonly port: number
  readonly hostname: string
  stop(closeActiveConnections?: boolean): Promise<void> | void
  timeout(req: Request, seconds: number): void
  upgrade(req: Request, o: { data: SocketSession }): boolean
}
interface BunSocket {
  readonly data: SocketSession
  send(text: string): number
  cork(fn: () => void): void
  close(code?: number, reason?: string): void
}
interface BunGlobal {
  readonly version: string
  gc(force: boolean): void
  serve(o: {
    port: number
    hostname: string
    idleTimeout?: number
    maxRequestBodySize?: number
    fetch(req: Request, server: BunServer): Response | undefined | Promise<Response | undefined>
    error?(e: Error): Response
    websocket: {
      maxPayloadLength?: number
      open(ws: BunSocket): void
      message(ws: BunSocket, data: string | Uint8Array): void
      close(ws: BunSocket): void
    }
  }): BunServer
}

const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun

/**
 * A handshake being answered, and the server it came to: Bun upgrades through the server object
 * its `fetch` was given, which the app's route never sees.
 */
const handshakes = new WeakMap<Request, { server: BunServer; handler: Handler }>()
/** Handshakes the route upgraded: their `fetch` returns nothing (Bun has answered them). */
const upgraded = new WeakSet<Request>()

const upgradeWebSocket: UpgradeWebSocket = (req, session) => {
  const at = handshakes.get(req)
  if (!at || !isWebSocketHandshake(req) || !at.server.upgrade(req, { data: session })) return undefined
  upgraded.add(req)
  // Never sent: Bun has answered the handshake itself. The app's middleware sees an empty 200.
  return new Response(null, { status: 200 })
}

function serve(handler: Handler, opts: ServeOptions): Promise<Served> {
  const idleTimeout = Math.min(opts.idleTimeoutSec ?? 255, 255)
  const maxBody = opts.maxBodyBytes ?? 64 * 1024 * 1024
  const sockets = new Set<BunSocket>()
  const server = bun.serve({
    port: opts.port,
    hostname: opts.hostname,
    // Bun closes a connection after 10 s idle by default (255 s at most). Thinking models can be
    // quiet for longer, so a POST gets no idle timeout while it is being answered below.
    idleTimeout,
    maxRequestBodySize: maxBody,
    async fetch(req, srv) {
      if (req.method !== 'POST') {
        if (!req.headers.has('upgrade')) return handler(req)
        handshakes.set(req, { server: srv, handler })
        const res = await handler(req)
        return upgraded.has(req) ? undefined : res
      }
      srv.timeout(req, 0)
      const res = await handler(req)
      // Only an event stream may stay quiet for long. Any other answer (a 401 to an
      // unauthenticated client, an error, a JSON body) gets the idle timeout back, so a
      // connection left open after it is closed like any other idle one.
      if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) srv.timeout(req, idleTimeout)
      return res
    },
    error: () =>
      new Response('{"error":{"message":"Internal server error"}}', {
        status: 500,
        headers: { 'content-type': 'application/json' },
      }),
    // Bun pings a quiet socket (its default), so an agent's connection outlives its 120 s idle limit.
    websocket: {
      // A frame is a request body: the same ceiling (Bun's default is 16 MiB), the app's own
      // limit then refusing a larger one in the client's format.
      maxPayloadLength: maxBody,
      open(ws) {
        sockets.add(ws)
        ws.data.open({
          send: (text) => void ws.send(text),
          sendAll: (texts) => ws.cork(() => texts.forEach((text) => ws.send(text))),
          forward: async (req) => await handler(req),
          close: (code, reason) => ws.close(code, reason),
        })
      },
      message: (ws, data) => ws.data.message(data),
      close(ws) {
        sockets.delete(ws)
        ws.data.close()
      },
    },
  })
  return Promise.resolve({
    port: server.port,
    hostname: server.hostname,
    stop: async (force?: boolean) => {
      for (const ws of sockets) force ? ws.close(1001, 'server stopping') : ws.data.drain()
      await server.stop(force ?? false)
    },
  })
}

function onSignal(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', fn: () => void): () => void {
  process.on(signal, fn)
  return () => {
    process.off(signal, fn)
  }
}

/**
 * Bun's fetch keeps at most 256 requests in flight and queues the rest, which would stall a
 * proxy serving hundreds of agents. The limit is read from BUN_CONFIG_MAX_HTTP_REQUESTS at
 * start-up only (setting it later has no effect: measured, 600 concurrent 500 ms requests take
 * 1.5 s without it and 0.56 s with it), so unless its launcher already set it (`npm start` does,
 * through `bun --env-file`), the server starts again with it set.
 *
 * It replaces itself (`execve`: same PID, nothing left behind), so a user's `switchyard start`
 * is one process, as `npm start` is: a parent kept only to wait would hold ~22 MB (33 MB for the
 * compiled binary) for nothing, and supervisors, signals and the PID file see the server itself.
 * Where `execve` is missing (Windows), it runs itself as a child instead, forwarding signals;
 * that child must never outlive its parent (a SIGKILL, an OOM kill, a supervisor's timeout would
 * leave it holding the port), so it learns the parent's PID from PARENT_PID_VAR and watches it
 * (`onOrphaned`).
 */
export const MAX_HTTP_REQUESTS = '65535'
/**
 * Bun refuses request headers over 16 KiB with a bare 431 (no body in the client's format); Deno
 * takes 64 KiB. The flag is read at start-up only, and from the command line or BUN_OPTIONS only
 * (not from an env file): `npm start` passes it, a relaunch sets it in BUN_OPTIONS.
 */
export const MAX_HEADER_FLAG = '--max-http-header-size=65536'
const PARENT_PID_VAR = 'SWITCHYARD_RELAUNCHED_BY'
/** How often a relaunched child checks that its parent is still there. */
const ORPHAN_POLL_MS = 200

// A compiled binary runs its own entry: argv[1] is its virtual path, not a script to pass.
const isCompiled = () =>
  (process.argv[1] ?? '').startsWith('/$bunfs/') || (process.argv[1] ?? '').startsWith('B:/~BUN/')

function selfCommand(args: readonly string[]): { cmd: string; args: readonly string[] } {
  return { cmd: process.execPath, args: isCompiled() ? [...args] : [process.argv[1] ?? '', ...args] }
}

function relaunchWithServerLimits(): Promise<number> | undefined {
  if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS !== undefined) return undefined
  const args = process.argv.slice(isCompiled() ? 2 : 1)
  const options = process.env.BUN_OPTIONS ?? ''
  const env = {
    ...process.env,
    BUN_CONFIG_MAX_HTTP_REQUESTS: MAX_HTTP_REQUESTS,
    BUN_OPTIONS: options.includes('--max-http-header-size') ? options : `${options} ${MAX_HEADER_FLAG}`.trim(),
  }
  if (process.execve) process.execve(process.execPath, [process.execPath, ...args], env)
  // Its own process group: a terminal's Ctrl-C reaches this process only, which forwards it
  // once (delivered to both, the child would take it as the second, "exit now" signal).
  const child = spawn(process.execPath, args, {
    stdio: 'inherit',
    detached: true,
    env: { ...env, [PARENT_PID_VAR]: String(process.pid) },
  })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig))
  return new Promise((resolve) => {
    child.on('error', () => resolve(1))
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

/**
 * Calls `fn` once when the parent that relaunched this process is gone: the child is then
 * re-parented (to init or a subreaper), so its parent PID changes. No relaunch, no watch.
 */
function onOrphaned(fn: () => void): () => void {
  const parent = Number(process.env[PARENT_PID_VAR])
  if (!Number.isInteger(parent) || parent <= 0) return () => {}
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    fn()
  }, ORPHAN_POLL_MS)
  // The watch alone must not keep a finished process alive.
  timer.unref()
  return () => clearInterval(timer)
}

const UTF8 = new TextEncoder()

/**
 * Bun's `Request` spends ~0.3 ms turning a freshly built 850 KB string into bytes (a body spliced
 * or serialised for this call always is; the same string sent twice is cheap), `TextEncoder`
 * ~0.07 ms: an agent's 150k-token conversation sent as bytes costs 0.2–0.35 ms less CPU per
 * call over a socket (docs/benchmarks.md, "Eighth pass").
 */
function requestBody(text: string): BodyInit {
  return UTF8.encode(text)
}

export const bunRuntime: Runtime = {
  name: 'bun',
  version: bun?.version ?? 'unknown',
  serve,
  upgradeWebSocket,
  onSignal,
  relaunchWithServerLimits,
  onOrphaned,
  selfCommand,
  smallReads: (res) => res,
  requestBody,
  reclaimMemory: () => bun.gc(true),
}
