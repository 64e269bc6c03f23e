/** The parsed harness command line, shared by `cli.ts` (which parses it) and `bench.ts` (which reads it). */
import type { ClientFormat } from './check.ts'

export interface HarnessArgs {
  readonly command: 'stress' | 'bench' | 'recovery' | 'fleet'
  readonly streams: number
  readonly chunks: number
  readonly delayMs: number
  readonly tokens: number
  readonly format: ClientFormat
  readonly clientFormat: ClientFormat
  readonly target: string | undefined
  readonly mockPort: number
  readonly json: string | undefined
  readonly timeoutS: number
  readonly quick: boolean
  readonly skipUsage: boolean
  readonly targetPid: number | undefined
  /** Share of the proxied run's upstream streams the mock cuts mid-way (0: none); the proxy must continue them. */
  readonly cutRate: number
  /** `recovery`: how long the primary is down, and the gap between requests. */
  readonly outageS: number
  readonly everyMs: number
  /** `fleet`: how many instances (default 3). */
  readonly instances: number
  /** `bench --fleet`: the proxy runs in fleet mode against its own redis-server (providers without limits). */
  readonly fleet: boolean
  /**
   * `bench --limits`: the proxy's provider gets an `rpm` and a `maxConcurrent` that never bind, so
   * every request passes the limiter (in fleet mode, the fleet-wide one): `--fleet --limits` against
   * `--limits` is the fleet's cost on a limited provider.
   */
  readonly limits: boolean
  /**
   * `bench --floor`: `harness/forwarder.ts` (parse, rewrite `model`, forward, stream back) in
   * Switchyard's place, one per phase: the least any proxy on this runtime and machine costs.
   */
  readonly floor?: boolean
  /**
   * `--floor --tap`: the forwarder reads the answer in JavaScript (a stream chunk by chunk, each
   * handed on through a stream of its own; JSON whole), as any proxy that counts usage or translates must at least do.
   */
  readonly tap?: boolean
  /** `bench --only streams`: only the streaming TTFB phase (the burst of stream set-ups). */
  readonly only?: 'streams'
  /** `bench`/stress `--runtime deno`: the proxy runs under Deno (the harness, the mock and the load stay on Bun). */
  readonly runtime: 'bun' | 'deno'
  /** `bench`/stress `--root DIR`: the proxy is `src/cli.ts` of that checkout (before/after pairs with one harness). */
  readonly root?: string
}
