/**
 * The mock's attempt log (served at `GET /_mock/attempts`) and its latency profile: the
 * two things tests read to learn how the proxy behaved (how many tries, how far apart,
 * whether it aborted) and to make one upstream slow for a while.
 */
import type { MockKnobs } from './knobs.ts'

export type MockFormat = 'anthropic' | 'openai' | 'gemini' | 'responses'
export type MockFault = 'status' | 'reset' | 'hang' | 'stall' | 'cut' | 'malformed' | 'noterm'
/**
 * `pending` until the mock finishes; `ok` for a clean answer; the fault's name when the
 * fault was served (`status`, `reset`, `stalled`, `cut`, `malformed`, `noterm`);
 * `aborted` when the client aborted before the mock finished.
 */
export type MockOutcome = 'pending' | 'ok' | 'status' | 'reset' | 'stalled' | 'cut' | 'malformed' | 'noterm' | 'aborted'

export interface MockAttempt {
  /** 1-based, in arrival order. */
  readonly seq: number
  /** Arrival time in ms since the mock started (injected clock). */
  readonly t: number
  readonly key: string
  /** The model as requested, knobs included (the mock echoes it). */
  readonly model: string
  readonly baseModel: string
  readonly path: string
  readonly format: MockFormat
  readonly stream: boolean
  readonly fault: MockFault | undefined
  outcome: MockOutcome
  status: number
  /** SSE events written (for JSON answers: 1 once the body is sent). */
  events: number
  /** Latency multiplier the profile applied. */
  factor: number
  /** When the mock stopped writing, ms since start. */
  endT: number | undefined
}

export type NewAttempt = Pick<MockAttempt, 't' | 'key' | 'model' | 'baseModel' | 'path' | 'format' | 'stream' | 'fault'>

/** A latency multiplier active while `fromMs <= elapsed < toMs`, optionally for one base model. */
export interface ProfileStep {
  readonly fromMs: number
  readonly toMs: number
  readonly factor: number
  readonly model?: string
}

/** Product of the factors of every step active at `elapsedMs` for `baseModel` (1 when none). */
export function profileFactor(steps: readonly ProfileStep[], elapsedMs: number, baseModel: string): number {
  let f = 1
  for (const s of steps) {
    if (elapsedMs >= s.fromMs && elapsedMs < s.toMs && (s.model === undefined || s.model === baseModel)) f *= s.factor
  }
  return f
}

/** The fault a knob set asks for, in precedence order (the one the mock will serve). */
export function faultOf(k: MockKnobs): MockFault | undefined {
  if (k.reset) return 'reset'
  if (k.hang) return 'hang'
  if (k.status !== undefined) return 'status'
  if (k.stallAfter !== undefined) return 'stall'
  if (k.cutAfter !== undefined) return 'cut'
  if (k.malformedAfter !== undefined) return 'malformed'
  if (k.noTerminator) return 'noterm'
  return undefined
}

/** Bounded, append-only log plus per-key attempt counters for `fail-first`. */
export class AttemptLog {
  #entries: MockAttempt[] = []
  #perKey = new Map<string, number>()
  #seq = 0
  #max: number
  dropped = 0

  constructor(max: number) {
    this.#max = max
  }

  /** Count one more attempt for `key` and return its 1-based number. */
  nextOfKey(key: string): number {
    const n = (this.#perKey.get(key) ?? 0) + 1
    this.#perKey.set(key, n)
    return n
  }

  add(a: NewAttempt): MockAttempt {
    const entry: MockAttempt = {
      ...a,
      seq: ++this.#seq,
      outcome: 'pending',
      status: 0,
      events: 0,
      factor: 1,
      endT: undefined,
    }
    if (this.#entries.length < this.#max) this.#entries.push(entry)
    else this.dropped++
    return entry
  }

  /** Snapshots, so callers never see later mutation. */
  list(): MockAttempt[] {
    return this.#entries.map((e) => ({ ...e }))
  }

  clear(): void {
    this.#entries = []
    this.#perKey.clear()
    this.#seq = 0
    this.dropped = 0
  }
}
