/**
 * Bun adapter. Declares by hand the narrow slice of `Bun` it calls, so the Deno checker needs
 * no Bun types.
 */
import type { Handler, Runtime, ServeOptions, Served } from './types.ts'

interface BunServer {
  readonly port: number
  readonly hostname: string
  stop(closeActiveConnections?: boolean): Promise<void> | void
  timeout(req: Request, seconds: number): void
}
interface BunGlobal {
  readonly version: string
  serve(o: {
    port: number
    hostname: string
    idleTimeout?: number
    maxRequestBodySize?: number
    fetch(req: Request, server: BunServer): Response | Promise<Response>
    error?(e: Error): Response
  }): BunServer
}

const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun

function serve(handler: Handler, opts: ServeOptions): Promise<Served> {
  const server = bun.serve({
    port: opts.port,
    hostname: opts.hostname,
    // Bun closes a connection after 10 s idle by default (255 s at most). Thinking models can be
    // quiet for longer, so POST requests (which may stream) get no idle timeout at all below.
    idleTimeout: Math.min(opts.idleTimeoutSec ?? 255, 255),
    maxRequestBodySize: opts.maxBodyBytes ?? 64 * 1024 * 1024,
    fetch(req, srv) {
      if (req.method === 'POST') srv.timeout(req, 0)
      return handler(req)
    },
    error: () => new Response('{"error":{"message":"Internal server error"}}', { status: 500, headers: { 'content-type': 'application/json' } }),
  })
  return Promise.resolve({
    port: server.port,
    hostname: server.hostname,
    stop: async (force?: boolean) => { await server.stop(force ?? false) },
  })
}

function onSignal(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', fn: () => void): () => void {
  process.on(signal, fn)
  return () => { process.off(signal, fn) }
}

export const bunRuntime: Runtime = { name: 'bun', version: bun?.version ?? 'unknown', serve, onSignal }
