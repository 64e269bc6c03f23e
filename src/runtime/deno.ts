/** Deno adapter. Declares by hand the narrow slice of `Deno` it calls. */
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
  readonly mainModule: string
  execPath(): string
  addSignalListener(s: string, fn: () => void): void
  removeSignalListener(s: string, fn: () => void): void
}

const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno

function serve(handler: Handler, opts: ServeOptions): Promise<Served> {
  const abort = new AbortController()
  let closed = false
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
      handler,
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

// Deno's fetch has no in-flight cap to raise, and Deno offers no GC call without --expose-gc.
export const denoRuntime: Runtime = {
  name: 'deno',
  version: deno?.version.deno ?? 'unknown',
  serve,
  onSignal,
  relaunchWithServerLimits: () => undefined,
  onOrphaned: () => () => {},
  selfCommand,
  collectGarbage: () => {},
}
