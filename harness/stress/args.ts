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
}
