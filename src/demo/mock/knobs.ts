/**
 * Per-request knobs of the mock upstream, read from the model-name suffix
 * (`mock-model:chunks=20:delay=10`) and from `x-mock-*` headers. Every knob is documented
 * in harness/README.md; keep the two in step.
 */
import type { Result } from '../../lib/result.ts'
import { err, ok } from '../../lib/result.ts'

export type ContentMode = 'text' | 'tool' | 'thinking'

export interface MockKnobs {
  readonly chunks: number
  readonly tokensPerChunk: number
  readonly delayMs: number
  readonly ttftMs: number
  readonly jitterMs: number
  readonly seed: number | undefined
  readonly mode: ContentMode
  /** Thinking deltas sent before the text in `mode=thinking`. */
  readonly thinkChunks: number
  /** Answer with this HTTP error status (in the upstream format's error body). */
  readonly status: number | undefined
  /** `retry-after` header value (seconds) sent with `status`. */
  readonly retryAfter: string | undefined
  /** With `status=400`: a plain invalid-request error instead of a context-length overflow. */
  readonly invalid: boolean
  readonly reset: boolean
  readonly hang: boolean
  readonly stallAfter: number | undefined
  readonly cutAfter: number | undefined
  readonly malformedAfter: number | undefined
  readonly noTerminator: boolean
  /** Streams: the share of attempts cut at a random event (never a continuation). */
  readonly cutRate: number | undefined
  /** Answer `status=503` for this many ms from the first attempt of the key on (an outage that ends by itself). */
  readonly outageMs: number | undefined
  /** Continuations: how many chunks before the prefill's end the answer restarts at (the repeat a model makes). */
  readonly overlap: number
  /** Answer a request whose last message is an assistant prefill with a 400 (as models without prefill support do). */
  readonly noPrefill: boolean
  /** Apply the configured fault (default: status 500) to the first N attempts per key only. */
  readonly failFirst: number | undefined
  readonly key: string | undefined
  /** `mode=tool`: the tool the call names (default `mock_lookup`). */
  readonly toolName: string | undefined
  /** `mode=tool`: the call's arguments, a JSON object text (default `{"seq":"[0001] … "}`). */
  readonly toolInput: string | undefined
  /** `mode=tool`: answer with text instead when the last message already carries a tool result (one round trip). */
  readonly toolOnce: boolean
}

export const DEFAULT_KNOBS: MockKnobs = {
  chunks: 10,
  tokensPerChunk: 1,
  delayMs: 0,
  ttftMs: 0,
  jitterMs: 0,
  seed: undefined,
  mode: 'text',
  thinkChunks: 3,
  status: undefined,
  retryAfter: undefined,
  invalid: false,
  reset: false,
  hang: false,
  stallAfter: undefined,
  cutAfter: undefined,
  malformedAfter: undefined,
  noTerminator: false,
  cutRate: undefined,
  outageMs: undefined,
  overlap: 0,
  noPrefill: false,
  failFirst: undefined,
  key: undefined,
  toolName: undefined,
  toolInput: undefined,
  toolOnce: false,
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type Setter = (k: Mutable<MockKnobs>, v: string) => string | undefined

const int = (min: number, apply: (k: Mutable<MockKnobs>, n: number) => void): Setter => (k, v) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) return `expected an integer >= ${min}, got "${v}"`
  apply(k, n)
  return undefined
}
const num = (apply: (k: Mutable<MockKnobs>, n: number) => void): Setter => (k, v) => {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) return `expected a number >= 0, got "${v}"`
  apply(k, n)
  return undefined
}
const flag = (apply: (k: Mutable<MockKnobs>, b: boolean) => void): Setter => (k, v) => {
  apply(k, v !== '0' && v !== 'false')
  return undefined
}

const SETTERS: Readonly<Record<string, Setter>> = {
  chunks: int(0, (k, n) => {
    k.chunks = n
  }),
  tokens: int(1, (k, n) => {
    k.tokensPerChunk = n
  }),
  delay: num((k, n) => {
    k.delayMs = n
  }),
  ttft: num((k, n) => {
    k.ttftMs = n
  }),
  jitter: num((k, n) => {
    k.jitterMs = n
  }),
  seed: int(0, (k, n) => {
    k.seed = n
  }),
  think: int(0, (k, n) => {
    k.thinkChunks = n
  }),
  mode: (k, v) => {
    if (v !== 'text' && v !== 'tool' && v !== 'thinking') return `expected text, tool or thinking, got "${v}"`
    k.mode = v
    return undefined
  },
  status: int(100, (k, n) => {
    k.status = n
  }),
  'retry-after': (k, v) => {
    k.retryAfter = v
    return undefined
  },
  invalid: flag((k, b) => {
    k.invalid = b
  }),
  reset: flag((k, b) => {
    k.reset = b
  }),
  hang: flag((k, b) => {
    k.hang = b
  }),
  stall: int(0, (k, n) => {
    k.stallAfter = n
  }),
  cut: int(0, (k, n) => {
    k.cutAfter = n
  }),
  malformed: int(0, (k, n) => {
    k.malformedAfter = n
  }),
  noterm: flag((k, b) => {
    k.noTerminator = b
  }),
  'cut-rate': (k, v) => {
    const n = Number(v)
    if (!(n >= 0 && n <= 1)) return `expected a number in [0, 1], got "${v}"`
    k.cutRate = n
    return undefined
  },
  overlap: int(0, (k, n) => {
    k.overlap = n
  }),
  outage: int(0, (k, n) => {
    k.outageMs = n
  }),
  'no-prefill': flag((k, b) => {
    k.noPrefill = b
  }),
  'fail-first': int(0, (k, n) => {
    k.failFirst = n
  }),
  key: (k, v) => {
    k.key = v
    return undefined
  },
  'tool-name': (k, v) => {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) return `expected 1 to 64 of A-Z a-z 0-9 _ -, got "${v}"`
    k.toolName = v
    return undefined
  },
  'tool-input': (k, v) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(v)
    } catch {
      parsed = undefined
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return `expected a JSON object, got "${v}"`
    }
    k.toolInput = JSON.stringify(parsed)
    return undefined
  },
  'tool-once': flag((k, b) => {
    k.toolOnce = b
  }),
}

/** The knob names, e.g. for help output. */
export const KNOB_NAMES: readonly string[] = Object.keys(SETTERS)

export interface ParsedModel {
  /** The model name without knob segments. */
  readonly base: string
  readonly knobs: MockKnobs
}

/**
 * Split `base:k=v:flag` into the base model and knobs; `x-mock-<knob>` headers apply
 * first, so the model suffix (more specific to the request) wins. A segment that is not a
 * knob stays part of the base name (`qwen3:8b` keeps its colon); `k=v` with an unknown `k`
 * is an error, so a typo never silently runs the happy path.
 */
export function parseKnobs(
  model: string,
  headers: Headers,
  defaults: MockKnobs = DEFAULT_KNOBS,
): Result<ParsedModel, string> {
  const knobs: Mutable<MockKnobs> = { ...defaults }
  for (const name of KNOB_NAMES) {
    const v = headers.get(`x-mock-${name}`)
    if (v === null) continue
    const problem = SETTERS[name]?.(knobs, v)
    if (problem !== undefined) return err(`Invalid header x-mock-${name}: ${problem}`)
  }
  const segments = model.split(':')
  const baseParts: string[] = [segments[0] ?? '']
  for (const seg of segments.slice(1)) {
    const eq = seg.indexOf('=')
    const name = eq < 0 ? seg : seg.slice(0, eq)
    const setter = SETTERS[name]
    if (setter === undefined) {
      if (eq >= 0) {
        return err(`Unknown mock knob "${name}" in model "${model}": known knobs are ${KNOB_NAMES.join(', ')}`)
      }
      baseParts.push(seg)
      continue
    }
    const problem = setter(knobs, eq < 0 ? '1' : seg.slice(eq + 1))
    if (problem !== undefined) return err(`Invalid mock knob "${name}" in model "${model}": ${problem}`)
  }
  return ok({ base: baseParts.join(':'), knobs })
}

/** True when the request asks for any fault (used by `fail-first` to pick its default). */
export function hasFault(k: MockKnobs): boolean {
  return k.status !== undefined || k.reset || k.hang || k.stallAfter !== undefined ||
    k.cutAfter !== undefined || k.malformedAfter !== undefined || k.noTerminator || (k.cutRate ?? 0) > 0
}

/** The knobs for a continuation: it is served without stream faults, so a cut stream can be completed. */
export function withoutStreamFaults(k: MockKnobs): MockKnobs {
  return {
    ...k,
    stallAfter: undefined,
    cutAfter: undefined,
    malformedAfter: undefined,
    noTerminator: false,
    cutRate: undefined,
  }
}

/** The same knobs with every fault switched off (what `fail-first` serves once N attempts failed). */
export function withoutFaults(k: MockKnobs): MockKnobs {
  return {
    ...k,
    status: undefined,
    retryAfter: undefined,
    invalid: false,
    reset: false,
    hang: false,
    stallAfter: undefined,
    cutAfter: undefined,
    malformedAfter: undefined,
    noTerminator: false,
    cutRate: undefined,
  }
}
