/** What the rest of the code needs from the JavaScript runtime. Bun and Deno each implement it. */
import type { UpgradeWebSocket } from '../lib/web-socket.ts'

export type Handler = (req: Request) => Response | Promise<Response>

export interface ServeOptions {
  readonly port: number
  readonly hostname: string
  /** Largest request body accepted before the runtime itself refuses it. */
  readonly maxBodyBytes?: number
  /** Idle seconds before the runtime closes a quiet connection (Bun: at most 255). */
  readonly idleTimeoutSec?: number
}

export interface Served {
  readonly port: number
  readonly hostname: string
  /**
   * Stop accepting connections; with `force`, also cut the open ones. Open WebSockets are asked
   * to close once idle (`SocketSession.drain`); with `force`, closed at once (1001).
   */
  stop(force?: boolean): Promise<void>
}

export interface Runtime {
  readonly name: 'bun' | 'deno'
  readonly version: string
  serve(handler: Handler, opts: ServeOptions): Promise<Served>
  /**
   * Upgrades a WebSocket handshake that reached `serve`'s handler, from inside that handler (the
   * app's route decides, after its key check): see `UpgradeWebSocket`.
   */
  readonly upgradeWebSocket: UpgradeWebSocket
  /** Calls `fn` for each SIGINT/SIGTERM/SIGHUP. Returns a function that removes the listeners. */
  onSignal(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', fn: () => void): () => void
  /**
   * Some runtime limits are read only at process start. When they are not set, starts this
   * same command again with them set: in place of this process where the platform can (then
   * it does not return), else as a child, forwarding signals, resolving to its exit code.
   * Undefined means this process is fine as it is.
   */
  relaunchWithServerLimits(): Promise<number> | undefined
  /**
   * In a relaunched child: calls `fn` once, within a fraction of a second, when the parent that
   * launched it has died (even by SIGKILL). Elsewhere a no-op. Returns a function that stops watching.
   */
  onOrphaned(fn: () => void): () => void
  /**
   * The command line that runs this same program (script, compiled binary or Deno module) with
   * `args`, e.g. for starting the service in the background.
   */
  selfCommand(args: readonly string[]): { readonly cmd: string; readonly args: readonly string[] }
  /**
   * An upstream response whose body is read in small chunks where the runtime's own reads are
   * wasteful (Deno backs every chunk of a fetch body, however short, with a fresh 64 KiB buffer);
   * elsewhere the response itself. Either way each chunk of a fetch body read from it has a buffer
   * of its own size (the stream queues chunks for slow clients as they are, without copying them again).
   */
  smallReads(res: Response): Response
  /**
   * A request body of JSON text in the form this runtime's fetch sends fastest: Bun's UTF-8 bytes
   * (it encodes a freshly built string far slower than `TextEncoder` does), Deno's the text itself.
   */
  requestBody(text: string): BodyInit
  /**
   * Give memory back at an idle moment (start-up leaves parse garbage, a burst its buffers): Bun
   * runs a full, synchronous collection; Deno, which offers none, trims glibc's malloc arenas.
   */
  reclaimMemory(): void
}
